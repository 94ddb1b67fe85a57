"""The triggerer's tick loop (`manage.py triggerer`): lease triggers, run them in the child,
resume the task instances whose triggers fired.

Each tick: restart the trigger runner child if it died; turn what it reported into resumed
(or failed) task instances, or, for a task-end event (`end_from_trigger`), into task instances
ended here in the event's state (dagruns/actions/trigger_end.py); then, when a wake-up came
or at least SYNC_INTERVAL after the last time, sync with the database: claim free triggers up
to the capacity, start those we hold and do not run yet, cancel those we run but no longer hold
(fired and deleted, their task cleared or timed out, or taken over by another triggerer
after we missed heartbeats). Each trigger starts with a read-only Execution API token for its
deferred try ("trigger" scope: other DAGs' states, nothing else), renewed at half its lifetime
while it runs. Idle, it waits for the child to report, for a wake-up (a task
deferred: dagruns/notify/trigger_wakeup.py), or at most a second.

An asset watcher's trigger (dagruns/actions/asset_watchers.py) runs the same way, under the
same lease and capacity, except that every event it yields is reported (each an asset event)
and it keeps running; when its `run()` ends or fails, it is started again from its stored
kwargs after RESTART_DELAY, as Airflow's triggerer starts again a trigger it still holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from dagruns.actions.deferral import (
    do_append_trigger_logs,
    do_fail_trigger,
    do_fire_trigger,
    do_fire_triggers,
)
from dagruns.actions.trigger_end import TaskEnd, do_end_from_triggers
from dagruns.domain.tokens import TRIGGER_SCOPE, issue_token
from dagruns.models import AssetWatcherModel, TaskInstance, Trigger
from dagruns.notify.trigger_wakeup import TriggererWakeReceiver, wake_triggerers
from scheduler.loops import TickLoop
from scheduler.triggerer import lease
from scheduler.triggerer.messages import TriggerEnded, TriggerFailed, TriggerFired, TriggerLogs
from scheduler.triggerer.runner import TriggerRunnerProcess

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 1.0
# How often the triggerer reads which triggers it holds and claims free ones when nothing woke
# it for that (a task deferring wakes it at once): Airflow's triggerer loads its triggers about
# once a second. Its ticks are far more frequent while triggers fire (each report from the
# child is a tick), and reading the leases on every one was most of its work then.
SYNC_INTERVAL = 1.0
# How long a watcher's trigger that ended rests before it starts again (so one that ends at
# once cannot spin the loop); Airflow's triggerer restarts it on its next loop, ~1 s later.
# One that keeps failing (cannot be imported, raises) waits twice as long each time, up to
# RESTART_DELAY_MAX, so its error is not logged every second.
RESTART_DELAY = 1.0
RESTART_DELAY_MAX = 60.0


@dataclass
class TriggererReport:
    """What one tick did: triggers started and cancelled, task instances resumed, ended here
    (end_from_trigger) or failed."""

    started: int = 0
    cancelled: int = 0
    fired: int = 0
    ended: int = 0
    failed: int = 0

    @property
    def work(self) -> int:
        return self.started + self.cancelled + self.fired + self.ended + self.failed


class Triggerer(TickLoop[TriggererReport]):
    job_type = lease.JOB_TYPE

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__()
        self.capacity = capacity or settings.ORCH.triggerer_capacity
        threshold = float(settings.ORCH.triggerer_health_check_threshold)
        # Several heartbeats per threshold, so one late tick does not hand our triggers over.
        self.heartbeat_every = min(5.0, threshold / 4)
        self.runner = TriggerRunnerProcess(
            str(settings.ORCH.dags_folder),
            str(settings.ORCH.plugins_folder),
            settings.ORCH.api_url,
        )
        # Triggers the child runs for us now, and which of them are asset watchers.
        self.active: set[int] = set()
        # Per running trigger: its try (task instance id, try number) and when its read-only
        # token was issued (monotonic), to renew it before it expires.
        self.tokens: dict[int, tuple[str, int, float]] = {}
        self.watching: set[int] = set()
        # Watchers' triggers that ended: not started again before this (monotonic) time;
        # and how many times in a row each failed.
        self.resting: dict[int, float] = {}
        self.failures: dict[int, int] = {}
        self._receiver: TriggererWakeReceiver | None = None
        self._next_sync = 0.0  # monotonic time of the next _sync due without a wake-up

    def run_once(self) -> TriggererReport:
        """One tick (see the module docstring). Needs a Job row (run_forever makes one)."""
        assert self.job is not None, "the triggerer runs under its Job row (its lease id)"
        report = TriggererReport()
        woken = self._receiver.drain() if self._receiver is not None else 0
        if not self.runner.alive():
            self._restart_runner()
        self._handle_reports(report)
        if woken or not self.active or time.monotonic() >= self._next_sync:
            self._sync(report)
            self._renew_tokens()
            self._next_sync = time.monotonic() + SYNC_INTERVAL
        return report

    def _restart_runner(self) -> None:
        if self.runner.proc is not None:
            log.error(
                "the trigger runner (pid %s) exited with %s; starting a new one for %d trigger(s)",
                self.runner.pid,
                self.runner.proc.returncode,
                len(self.active),
            )
            self.runner.stop()
        self.runner.start()
        self.active.clear()  # the new child runs nothing yet: _sync starts ours again
        self.tokens.clear()
        self.watching.clear()

    def _handle_reports(self, report: TriggererReport) -> None:
        messages = self.runner.read()
        if not messages:
            return
        now = timezone.now()
        # Log lines first (their task instances are still deferred on the trigger), a whole
        # batch's in one pass.
        logs: dict[int, list[str]] = {}
        for message in messages:
            if isinstance(message, TriggerLogs) and message.trigger_id in self.active:
                logs.setdefault(message.trigger_id, []).extend(message.lines)
        if logs:
            do_append_trigger_logs(logs)
        # One transaction for the batch: a thousand triggers firing together are one commit,
        # and the tasks their events resume or end are resumed or ended together, in a few
        # statements.
        ends: dict[int, TaskEnd] = {}
        fired: dict[int, Any] = {}
        with transaction.atomic():
            for message in messages:
                if isinstance(message, TriggerLogs):
                    continue
                if message.trigger_id not in self.active:
                    continue  # cancelled meanwhile: its outcome is no longer ours to report
                watcher = message.trigger_id in self.watching
                if watcher and isinstance(message, TriggerFired):
                    self.failures.pop(message.trigger_id, None)
                    report.fired += do_fire_trigger(message.trigger_id, message.payload, now=now)
                    continue  # it keeps watching
                failed = isinstance(message, TriggerFailed)
                self._stopped(message.trigger_id, rest=watcher, failed=failed)
                if isinstance(message, TriggerEnded):
                    continue
                if isinstance(message, TriggerFired) and message.end_state is not None:
                    ends[message.trigger_id] = TaskEnd(message.end_state, message.xcoms or {})
                elif isinstance(message, TriggerFired):
                    fired[message.trigger_id] = message.payload
                elif isinstance(message, TriggerFailed):
                    first = message.traceback[0] if message.traceback else "(no traceback)"
                    log.error("trigger %s failed: %s", message.trigger_id, first)
                    report.failed += do_fail_trigger(message.trigger_id, message.traceback, now=now)
            if fired:
                report.fired += do_fire_triggers(fired, now=now)
            if ends:
                report.ended += do_end_from_triggers(ends, now=now)

    def _stopped(self, trigger_id: int, *, rest: bool, failed: bool = False) -> None:
        self.active.discard(trigger_id)
        self.watching.discard(trigger_id)
        if not rest:
            return
        failures = self.failures.get(trigger_id, 0) + 1 if failed else 0
        self.failures[trigger_id] = failures
        delay = min(RESTART_DELAY * 2 ** max(failures - 1, 0), RESTART_DELAY_MAX)
        self.resting[trigger_id] = time.monotonic() + delay

    def _sync(self, report: TriggererReport) -> None:
        assert self.job is not None
        now = timezone.now()
        held = lease.held_by(self.job.pk)
        if len(held) < self.capacity:
            held |= set(lease.claim(self.job.pk, self.capacity - len(held), now))
        for trigger_id in self.active - held:
            self.runner.cancel_trigger(trigger_id)
            self._stopped(trigger_id, rest=False)
            report.cancelled += 1
        for trigger_id in set(self.tokens) - self.active:
            del self.tokens[trigger_id]
        clock = time.monotonic()
        self.resting = {t: at for t, at in self.resting.items() if t in held and at > clock}
        self.failures = {t: n for t, n in self.failures.items() if t in held}
        new = held - self.active - self.resting.keys()
        if not new:
            return
        tries = {
            trigger_id: (str(ti_id), try_number)
            for trigger_id, ti_id, try_number in TaskInstance.objects.filter(
                trigger_id__in=new
            ).values_list("trigger_id", "id", "try_number")
        }
        watched = AssetWatcherModel.objects.filter(trigger_id=OuterRef("pk"))
        starting = Trigger.objects.filter(pk__in=new).annotate(watcher=Exists(watched))
        for trigger in starting.order_by("pk"):
            try:
                kwargs = trigger.kwargs
            except Exception as exc:  # undecryptable (ORCH_FERNET_KEY changed): fail its task
                reason = f"Could not read the kwargs of trigger {trigger.pk}: {exc}"
                do_fail_trigger(trigger.pk, [reason])
                report.failed += 1
                continue
            token = None
            if (ti := tries.get(trigger.pk)) is not None:
                token = issue_token(*ti, scope=TRIGGER_SCOPE)
                self.tokens[trigger.pk] = (*ti, time.monotonic())
            watcher = bool(trigger.watcher)  # type: ignore[attr-defined]
            if self.runner.start_trigger(
                trigger.pk, trigger.classpath, kwargs, token, watcher=watcher
            ):
                self.active.add(trigger.pk)
                if watcher:
                    self.watching.add(trigger.pk)
                report.started += 1

    def _renew_tokens(self) -> None:
        """Send a fresh token to each running trigger whose token is half-way to expiry."""
        half_life = settings.ORCH.execution_api_token_ttl / 2
        now = time.monotonic()
        for trigger_id, (ti_id, try_number, issued) in list(self.tokens.items()):
            if now - issued < half_life:
                continue
            token = issue_token(ti_id, try_number, scope=TRIGGER_SCOPE)
            if self.runner.refresh_token(trigger_id, token):
                self.tokens[trigger_id] = (ti_id, try_number, now)

    # -- the loop's hooks (scheduler/loops.py) --------------------------------------------

    @contextmanager
    def running(self) -> Iterator[None]:
        self.runner.start()
        self._receiver = TriggererWakeReceiver()
        try:
            yield
        finally:
            self._receiver.close()
            self._receiver = None
            self.runner.stop()
            if self.job is not None:
                # Hand our triggers over at once instead of after the health threshold.
                released = lease.release(self.job.pk)
                if released:
                    wake_triggerers()
                    log.info("stopping: released %d trigger(s) to other triggerers", released)

    def wake_handles(self) -> list[Any]:
        handles: list[Any] = []
        if self.runner.alive():
            handles.append(self.runner.fileno())
        if self._receiver is not None:
            handles.append(self._receiver.sock)
        return handles

    def idle_timeout(self) -> float:
        until_sync = max(0.0, self._next_sync - time.monotonic())
        return min(IDLE_TIMEOUT, self.heartbeat_every, until_sync)

    def describe(self, report: TriggererReport) -> str | None:
        return (
            f"triggers: {report.started} started, {report.cancelled} cancelled, "
            f"{report.fired} fired, {report.ended} ended tasks, {report.failed} failed"
        )
