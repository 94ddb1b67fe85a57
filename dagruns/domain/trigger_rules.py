"""Trigger rules: may a task run yet, must it never run, or should it wait?

A pure function over counts of upstream states, following Airflow's TriggerRuleDep
(airflow-core/src/airflow/ti_deps/deps/trigger_rule_dep.py) rule for rule: first the
"flag upstream failed" pass that can settle a task as skipped/upstream_failed as soon as the
outcome is certain (without waiting for the other upstreams), then the readiness check.
Only *finished* upstream try states are counted, exactly as there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dagruns.models.states import TaskInstanceState as TIS

SUCCESS, SKIPPED, FAILED, UPSTREAM_FAILED, REMOVED = (
    TIS.SUCCESS,
    TIS.SKIPPED,
    TIS.FAILED,
    TIS.UPSTREAM_FAILED,
    TIS.REMOVED,
)
_FINISHED = {SUCCESS, SKIPPED, FAILED, UPSTREAM_FAILED, REMOVED}


@dataclass(frozen=True)
class UpstreamCounts:
    """Finished direct upstream task instances by state, plus how many upstreams there are."""

    total: int
    success: int = 0
    skipped: int = 0
    failed: int = 0
    upstream_failed: int = 0
    removed: int = 0
    setup_total: int = 0
    setup_success: int = 0
    setup_skipped: int = 0

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed + self.upstream_failed + self.removed

    @classmethod
    def of(cls, upstream: Iterable[tuple[str | None, bool]]) -> UpstreamCounts:
        """From (state, is_setup) of each direct upstream task instance."""
        counts: dict[str, int] = dict.fromkeys(_FINISHED, 0)
        total = setup_total = setup_success = setup_skipped = 0
        for state, is_setup in upstream:
            total += 1
            setup_total += is_setup
            if state in counts:
                counts[state] += 1
                setup_success += is_setup and state == SUCCESS
                setup_skipped += is_setup and state == SKIPPED
        return cls(
            total=total,
            success=counts[SUCCESS],
            skipped=counts[SKIPPED],
            failed=counts[FAILED],
            upstream_failed=counts[UPSTREAM_FAILED],
            removed=counts[REMOVED],
            setup_total=setup_total,
            setup_success=setup_success,
            setup_skipped=setup_skipped,
        )


@dataclass(frozen=True)
class Decision:
    """`ready`: run it now. `new_state`: settle it without running (skipped/upstream_failed).
    Neither: wait; `reason` says why (shown in the UI's dependency explanation)."""

    ready: bool
    new_state: str | None = None
    reason: str = ""


READY = Decision(ready=True)


def _wait(reason: str) -> Decision:
    return Decision(ready=False, reason=reason)


def _settle(state: str, reason: str) -> Decision:
    return Decision(ready=False, new_state=state, reason=reason)


def evaluate(rule: str, c: UpstreamCounts) -> Decision:
    if rule == "always" or c.total == 0:
        return READY
    upstream_done = c.done >= c.total
    settled = _settle_early(rule, c, upstream_done)
    if settled is not None:
        return settled
    return _readiness(rule, c, upstream_done)


def _settle_early(rule: str, c: UpstreamCounts, upstream_done: bool) -> Decision | None:
    failed_any = c.failed or c.upstream_failed
    if rule == "all_success":
        if failed_any:
            return _settle(UPSTREAM_FAILED, "an upstream task failed")
        if c.skipped:
            return _settle(SKIPPED, "an upstream task was skipped")
    elif rule == "all_failed":
        if c.success or c.skipped:
            return _settle(SKIPPED, "an upstream task did not fail")
    elif rule == "one_success":
        if upstream_done and c.done == c.skipped:
            return _settle(SKIPPED, "all upstream tasks were skipped")
        if upstream_done and c.success <= 0:
            return _settle(UPSTREAM_FAILED, "no upstream task succeeded")
    elif rule == "one_failed":
        if upstream_done and not failed_any:
            return _settle(SKIPPED, "no upstream task failed")
    elif rule == "one_done":
        if upstream_done and not (c.failed or c.success):
            return _settle(SKIPPED, "no upstream task succeeded or failed")
    elif rule == "none_failed":
        if failed_any:
            return _settle(UPSTREAM_FAILED, "an upstream task failed")
    elif rule == "none_failed_min_one_success":
        if failed_any:
            return _settle(UPSTREAM_FAILED, "an upstream task failed")
        if c.skipped == c.total:
            return _settle(SKIPPED, "all upstream tasks were skipped")
    elif rule == "none_skipped":
        if c.skipped:
            return _settle(SKIPPED, "an upstream task was skipped")
    elif rule == "all_skipped":
        if c.success or failed_any:
            return _settle(SKIPPED, "an upstream task was not skipped")
    elif rule == "all_done_min_one_success":
        non_skipped_done = c.success + c.failed + c.upstream_failed + c.removed
        if c.skipped > 0:
            return _settle(SKIPPED, "an upstream task was skipped")
        if non_skipped_done >= c.total - c.skipped and c.success == 0:
            return _settle(UPSTREAM_FAILED, "all upstream tasks finished and none succeeded")
    elif rule == "all_done_setup_success" and upstream_done and c.setup_total:
        if c.setup_skipped >= c.setup_total:
            return _settle(SKIPPED, "all upstream setup tasks were skipped")
        if c.setup_success == 0:
            return _settle(UPSTREAM_FAILED, "no upstream setup task succeeded")
    return None


def _readiness(rule: str, c: UpstreamCounts, upstream_done: bool) -> Decision:
    not_done = c.total - c.done
    if rule == "all_success":
        return (
            READY
            if c.success >= c.total
            else _wait(f"{c.total - c.success} upstream not yet succeeded")
        )
    if rule == "all_failed":
        ok = c.failed + c.upstream_failed >= c.total
        return READY if ok else _wait(f"{not_done} upstream not yet finished")
    if rule in ("all_done", "all_done_setup_success"):
        if not upstream_done:
            return _wait(f"{not_done} upstream not yet finished")
        if rule == "all_done_setup_success" and c.setup_total and not c.setup_success:
            return _wait("no upstream setup task succeeded")
        return READY
    if rule == "one_success":
        return READY if c.success > 0 else _wait("waiting for one upstream task to succeed")
    if rule == "one_failed":
        failed_any = c.failed or c.upstream_failed
        return READY if failed_any else _wait("waiting for one upstream task to fail")
    if rule == "one_done":
        return READY if c.success + c.failed > 0 else _wait("waiting for one upstream to finish")
    if rule in ("none_failed", "none_failed_min_one_success"):
        ok = c.success + c.skipped >= c.total
        return READY if ok else _wait(f"{not_done} upstream not yet finished")
    if rule == "none_skipped":
        return READY if upstream_done else _wait(f"{not_done} upstream not yet finished")
    if rule == "all_skipped":
        return READY if c.skipped >= c.total else _wait(f"{not_done} upstream not yet finished")
    if rule == "all_done_min_one_success":
        if c.success + c.failed + c.upstream_failed + c.removed < c.total - c.skipped:
            return _wait(f"{not_done} upstream not yet finished")
        return READY if c.success else _wait("no upstream task succeeded")
    return _wait(f"no strategy for trigger rule {rule!r}")
