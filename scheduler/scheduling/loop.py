"""The scheduler: a tick loop (scheduler/loops.py) around one testable tick.

`run_once()` creates due runs, starts queued runs, examines running runs, handles ended runners,
zombies and stuck queued tasks, and queues ready task instances; it returns how much it did.
When a tick did nothing the loop waits — not for a fixed interval but until something happens:
a wake-up (a task finished, a run was triggered, on any host: see dagruns/notify/wakeup.py), a
runner process ending, the next retry falling due, or at most ORCH_SCHEDULER_IDLE_SLEEP. That
is what makes the gap between one task's end and the next one's start milliseconds rather than
a poll interval.

As a long-running process (`run_forever`) it also recovers at start what a previous incarnation
left queued or running (scheduler/scheduling/recovery.py), and stops gracefully: the first
SIGTERM/SIGINT stops it taking new work, lets running tries finish for up to
ORCH_SHUTDOWN_GRACE seconds, then kills the rest and gives their tries back to the queue without
using a retry; a second signal cuts the grace short.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from dagruns.actions.deferral import next_trigger_timeout, time_out_deferred
from dagruns.actions.requeue import requeue_try
from dagruns.models import TaskInstance, TaskInstanceState
from dagruns.notify.wakeup import WakeReceiver
from scheduler.executors.base import BaseExecutor, load_executor
from scheduler.loops import TickLoop
from scheduler.scheduling.adoption import adopt_orphaned_tries
from scheduler.scheduling.asset_runs import create_asset_triggered_runs
from scheduler.scheduling.backfills import make_backfill_runs, start_queued_backfill_runs
from scheduler.scheduling.create_runs import create_due_runs
from scheduler.scheduling.examine import examine_running_runs, start_queued_runs
from scheduler.scheduling.health import (
    fail_ended_runners,
    fail_stuck_queued,
    fail_zombies,
    stop_orphaned_runners,
)
from scheduler.scheduling.queueing import queue_ready_tasks
from scheduler.scheduling.recovery import AdoptedRunners, RecoveryReport, recover_at_start

log = logging.getLogger(__name__)


@dataclass
class SchedulingReport:
    """What one scheduler tick did: runs created and started, scheduling decisions taken,
    tries failed from outside, task instances queued."""

    runs_created: int = 0
    runs_started: int = 0
    decisions: int = 0
    failures: int = 0
    queued: int = 0
    adopted: int = 0

    @property
    def work(self) -> int:
        return (
            self.runs_created
            + self.runs_started
            + self.decisions
            + self.failures
            + self.queued
            + self.adopted
        )


class Scheduler(TickLoop[SchedulingReport]):
    job_type = "scheduler"

    def __init__(self, executor: BaseExecutor | None = None, dag_ids: list[str] | None = None):
        super().__init__()
        self.executor = executor or load_executor(
            settings.ORCH.executors, settings.ORCH.parallelism
        )
        # `dags test` schedules only its own DAG, paused or not.
        self.dag_ids = dag_ids
        self.heartbeat_every = float(settings.ORCH.scheduler_heartbeat_sec)
        self.adopted = AdoptedRunners()
        self.recovery: RecoveryReport | None = None
        self._receiver: WakeReceiver | None = None
        self._draining = False
        self._signals = 0
        self._last_health_check = 0.0
        self._last_orphan_check = 0.0
        self._last_adoption_check = 0.0

    def run_once(self, now: datetime | None = None) -> SchedulingReport:
        """One scheduling decision pass. Safe to call from tests with a fake executor. While
        draining (graceful stop) it takes no new work: no runs created or started, nothing
        queued; tries that end are still handled and their runs still examined."""
        if self._receiver is not None:
            self._receiver.drain()
        now = now or timezone.now()
        r = SchedulingReport()
        if self.dag_ids is None and not self._draining:
            r.runs_created = create_due_runs(now)
            r.runs_created += create_asset_triggered_runs(now)
        if not self._draining:
            r.runs_started = start_queued_runs(now, self.dag_ids)
        if self.dag_ids is None and not self._draining:
            r.runs_created += make_backfill_runs(now)
            r.runs_started += start_queued_backfill_runs(now)
        r.failures += fail_ended_runners(self.executor.sync(), now)
        r.failures += self.adopted.collect_ended(now)
        if time.monotonic() - self._last_orphan_check > 0.25:
            # A cleared or marked try is killed here within a quarter second (its runner's
            # next heartbeat would notice too, later); no need to ask every tick.
            self._last_orphan_check = time.monotonic()
            r.failures += stop_orphaned_runners(self.executor)
        if time.monotonic() - self._last_health_check > 1.0:
            self._last_health_check = time.monotonic()
            r.failures += fail_zombies(now) + fail_stuck_queued(now, self.executor)
            r.decisions += time_out_deferred(now)
        if (
            self.job is not None
            and time.monotonic() - self._last_adoption_check
            > settings.ORCH.orphaned_tasks_check_interval
        ):
            # Airflow's orphaned_tasks_check_interval: a scheduler that died meanwhile has its
            # in-flight Celery tries taken over here (scheduling/adoption.py).
            self._last_adoption_check = time.monotonic()
            r.adopted = adopt_orphaned_tries(self.job, self.executor, now)
        r.decisions += examine_running_runs(now, self.dag_ids)
        if not self._draining:
            r.queued = queue_ready_tasks(
                self.executor,
                now,
                dag_ids=self.dag_ids,
                queued_by=self.job.pk if self.job is not None else None,
                adopted=len(self.adopted.runners),
            )
        return r

    # -- the loop's hooks (scheduler/loops.py) --------------------------------------------

    @contextmanager
    def running(self) -> Iterator[None]:
        self.executor.start()
        self._receiver = WakeReceiver()
        try:
            yield
            if self._draining:
                self._drain()
        finally:
            self._receiver.close()
            self._receiver = None

    def on_started(self) -> None:
        # Only a scheduler process (one with a Job row) is an incarnation that may take over
        # what a dead one left; `dags test` and the tests drive run_until without one.
        if self.job is not None:
            self.recovery = recover_at_start(self.job, self.adopted, timezone.now())
            self.executor.on_scheduler_started(self.job.pk)
            adopt_orphaned_tries(self.job, self.executor, timezone.now())
            self._last_adoption_check = time.monotonic()

    def wake_handles(self) -> list[Any]:
        handles: list[Any] = [*self.executor.wait_handles(), *self.adopted.wait_handles()]
        if self._receiver is not None:
            handles.append(self._receiver.sock)
        return handles

    def idle_timeout(self) -> float:
        return min(
            settings.ORCH.scheduler_idle_sleep,
            self._seconds_to_next_retry(),
            _seconds_to_next_trigger_timeout(),
        )

    def run_forever(self) -> None:
        try:
            super().run_forever()
        finally:
            self.adopted.close()
            self.executor.end()

    def on_signal(self, signum: int) -> None:
        """First SIGTERM/SIGINT: stop taking work and drain (see module docstring); the next
        one ends the grace period at once."""
        self._signals += 1
        if self._signals == 1:
            self._draining = True
        self.stop()

    # -- graceful stop -------------------------------------------------------------------

    def _running_tries(self) -> dict[str, int]:
        """What a graceful stop waits for: runners of this host (adopted or our executor's),
        not tries running on Celery workers, which outlive this scheduler."""
        return {**self.adopted.running_tries(), **self.executor.tries_to_drain()}

    def _drain(self) -> None:
        """Tick without taking new work until every runner ended, the grace period passed or a
        second signal came; then kill what still runs and give those tries back."""
        grace = float(settings.ORCH.shutdown_grace)
        deadline = time.monotonic() + grace
        signals_at_start = self._signals
        if self._running_tries():
            log.info(
                "stopping: no new work; waiting up to %g s for %d running try(ies) to finish",
                grace,
                len(self._running_tries()),
            )
        while self._running_tries() and self._signals == signals_at_start:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            report = self.tick()
            if report.work == 0:
                self.wait_for(self.wake_handles(), min(remaining, self.idle_timeout()))
        self._give_back_unfinished()

    def _give_back_unfinished(self) -> None:
        """Kill the runners still going after the grace period and queue their tries again
        without using a retry: the task did not fail, the shutdown interrupted it."""
        left = self._running_tries()
        if not left:
            return
        for ti_id in self.executor.tries_to_drain():
            self.executor.terminate(ti_id)
        self.adopted.kill_all()
        # Wait (bounded) until they are gone: a try must not be queued again while its old
        # runner could still report.
        deadline = time.monotonic() + 10.0
        while self.executor.tries_to_drain() and time.monotonic() < deadline:
            self.executor.sync()  # reaps; their tries are handled below, not failed
            self.wait_for(self.executor.wait_handles(), 0.2)
        now = timezone.now()
        requeued = 0
        for ti in TaskInstance.objects.filter(
            pk__in=list(left), state__in=(TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
        ):
            if left.get(str(ti.pk)) == ti.try_number:
                requeued += requeue_try(
                    ti,
                    f"The scheduler stopped and the try was still running after the "
                    f"{settings.ORCH.shutdown_grace:g} s grace period (ORCH_SHUTDOWN_GRACE).",
                    now,
                )
        log.warning(
            "stopping: %d try(ies) still running after the grace period were stopped and "
            "queued again without using a retry",
            requeued,
        )

    def _seconds_to_next_retry(self) -> float:
        due = (
            # Retries and reschedule-mode sensors both wait for next_retry_at.
            TaskInstance.objects.filter(
                state__in=(TaskInstanceState.UP_FOR_RETRY, TaskInstanceState.UP_FOR_RESCHEDULE)
            )
            .order_by("next_retry_at")
            .values_list("next_retry_at", flat=True)
            .first()
        )
        if due is None:
            return float("inf")
        return (due - timezone.now()).total_seconds()


def _seconds_to_next_trigger_timeout() -> float:
    """A deferral timing out is checked with the health checks (at most once a second): wake
    for the first one due, not later."""
    due = next_trigger_timeout()
    return float("inf") if due is None else max(1.0, (due - timezone.now()).total_seconds())
