"""Why a task instance is not running yet, in words a person reads on the task page:
"waiting because upstream `extract` is running". Uses the scheduler's own trigger-rule
evaluation, so the explanation matches what the scheduler decides."""

from __future__ import annotations

from dataclasses import dataclass

from dagruns.domain.trigger_rules import UpstreamCounts, evaluate
from dagruns.models import DagModel, DagRun, Pool, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED, TI_FINISHED
from dagruns.ui import format as fmt
from dagruns.ui.structure import Structure

WAITING_STATES = (None, "scheduled", "queued", "up_for_retry", "up_for_reschedule", "deferred")
_STATE_WORDS = {
    None: "has not started",
    "scheduled": "is scheduled",
    "queued": "is queued",
    "running": "is running",
    "up_for_retry": "is waiting to retry",
    "up_for_reschedule": "is waiting to be rescheduled",
    "deferred": "is deferred",
    "restarting": "is restarting",
}


@dataclass(frozen=True)
class Reason:
    """`before` + `code` (shown as code) + `after`."""

    before: str
    code: str = ""
    after: str = ""


def explain(ti: TaskInstance, run: DagRun, dag: DagModel, structure: Structure) -> list[Reason]:
    if ti.state not in WAITING_STATES:
        return []
    reasons: list[Reason] = []
    if dag.is_paused:
        reasons.append(Reason("waiting because the DAG ", dag.dag_id, " is paused"))
    if run.state == "queued":
        reasons.append(Reason("waiting because its DAG run is queued (not yet started)"))
    elif run.state in DAGRUN_FINISHED:
        reasons.append(Reason(f"not scheduled: its DAG run is {run.state}"))
    spec = structure.tasks.get(ti.task_id) or {}
    upstream = list(spec.get("upstream_task_ids") or ())
    if upstream and ti.state in (None, "scheduled"):
        states = dict(
            TaskInstance.objects.filter(dag_run_id=run.pk, task_id__in=upstream).values_list(
                "task_id", "state"
            )
        )
        for up in upstream:
            state = states.get(up)
            if state not in TI_FINISHED:
                words = _STATE_WORDS.get(state, f"is {state}")
                reasons.append(Reason("waiting because upstream ", up, f" {words}"))
        counts = UpstreamCounts.of(
            (states.get(up), bool(structure.tasks.get(up, {}).get("is_setup"))) for up in upstream
        )
        rule = spec.get("trigger_rule") or "all_success"
        decision = evaluate(rule, counts)
        if decision.new_state:
            reasons.append(
                Reason(f"will be {decision.new_state}: {decision.reason} (trigger rule ", rule, ")")
            )
        elif not decision.ready and not any(r.code in upstream for r in reasons):
            reasons.append(Reason(f"{decision.reason} (trigger rule ", rule, ")"))
    if ti.state == "up_for_retry":
        when = fmt.when(ti.next_retry_at) or "soon"
        reasons.append(Reason(f"waiting to retry at {when} UTC (try {ti.try_number + 1} next)"))
    elif ti.state == "scheduled":
        reasons.append(Reason("waiting for a free slot in pool ", ti.pool))
    elif ti.state == "queued":
        reasons.append(Reason("queued: waiting for a worker to start it"))
    elif ti.state == "deferred":
        reasons.append(Reason("deferred: waiting for its trigger to fire"))
    if ti.state in (None, "scheduled") and not Pool.objects.filter(name=ti.pool).exists():
        reasons.append(Reason("will not be scheduled: pool ", ti.pool, " does not exist"))
    return reasons
