"""The scheduler: a loop around one testable tick.

`run_once()` creates due runs, starts queued runs, examines running runs, handles ended runners,
zombies and stuck queued tasks, and queues ready task instances; it returns how much it did.
`run_forever()` only repeats it. When a tick did nothing it waits — not for a fixed interval but
until something happens: a wake-up datagram (a task finished, a run was triggered: see
dagruns/notify/wakeup.py), a runner process ending, the next retry falling due, or at most
ORCH_SCHEDULER_IDLE_SLEEP. That is what makes the gap between one task's end and the next one's
start milliseconds rather than a poll interval.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from dagruns.domain.jobs import end_job, heartbeat, start_job
from dagruns.models import TaskInstance, TaskInstanceState
from scheduler.executors.base import BaseExecutor, load_executor
from scheduler.scheduling.create_runs import create_due_runs
from scheduler.scheduling.examine import examine_running_runs, start_queued_runs
from scheduler.scheduling.health import (
    fail_ended_runners,
    fail_stuck_queued,
    fail_zombies,
    stop_orphaned_runners,
)
from scheduler.scheduling.queueing import queue_ready_tasks

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    runs_created: int = 0
    runs_started: int = 0
    decisions: int = 0
    failures: int = 0
    queued: int = 0

    @property
    def work(self) -> int:
        return self.runs_created + self.runs_started + self.decisions + self.failures + self.queued


class Scheduler:
    def __init__(self, executor: BaseExecutor | None = None, dag_ids: list[str] | None = None):
        self.executor = executor or load_executor(settings.ORCH.executor, settings.ORCH.parallelism)
        # `dags test` schedules only its own DAG, paused or not.
        self.dag_ids = dag_ids
        self._stop = threading.Event()
        self._last_health_check = 0.0
        self._last_orphan_check = 0.0

    def run_once(self, now: datetime | None = None) -> TickReport:
        """One scheduling decision pass. Safe to call from tests with a fake executor."""
        now = now or timezone.now()
        r = TickReport()
        if self.dag_ids is None:
            r.runs_created = create_due_runs(now)
        r.runs_started = start_queued_runs(now, self.dag_ids)
        r.failures += fail_ended_runners(self.executor.sync(), now)
        if time.monotonic() - self._last_orphan_check > 0.25:
            # A cleared or marked try is killed here within a quarter second (its runner's
            # next heartbeat would notice too, later); no need to ask every tick.
            self._last_orphan_check = time.monotonic()
            r.failures += stop_orphaned_runners(self.executor)
        if time.monotonic() - self._last_health_check > 1.0:
            self._last_health_check = time.monotonic()
            r.failures += fail_zombies(now) + fail_stuck_queued(now)
        r.decisions = examine_running_runs(now, self.dag_ids)
        r.queued = queue_ready_tasks(self.executor, now, dag_ids=self.dag_ids)
        return r

    def run_forever(self) -> None:
        self._install_signal_handlers()
        try:
            self.run_until(lambda report: False, job_type="scheduler")
        finally:
            self.executor.end()

    def run_until(
        self,
        done: Callable[[TickReport], bool],
        *,
        job_type: str | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Tick until `done(report)` says so (True), `timeout` seconds pass or stop() is
        called (False). Between idle ticks it sleeps until woken (see module docstring).
        Tries still running when it returns keep running: ending the executor is the job of
        whoever owns it (run_forever, a foreground run), so it can be driven in steps."""
        from dagruns.notify.wakeup import WakeReceiver

        self.executor.start()
        receiver = WakeReceiver()
        job = start_job(job_type) if job_type else None
        deadline = None if timeout is None else time.monotonic() + timeout
        last_heartbeat = 0.0
        state = "success"
        try:
            while not self._stop.is_set():
                close_old_connections()
                receiver.drain()
                report = self.run_once()
                if done(report):
                    return True
                if deadline is not None and time.monotonic() > deadline:
                    return False
                if (
                    job
                    and time.monotonic() - last_heartbeat > settings.ORCH.scheduler_heartbeat_sec
                ):
                    heartbeat(job)
                    last_heartbeat = time.monotonic()
                if report.work == 0:
                    self._wait(receiver)
            return False
        except BaseException:
            state = "failed"
            raise
        finally:
            receiver.close()
            if job:
                end_job(job, state)

    def _wait(self, receiver) -> None:
        from multiprocessing.connection import wait

        timeout = min(settings.ORCH.scheduler_idle_sleep, self._seconds_to_next_retry())
        wait([receiver.sock, *self.executor.wait_handles()], timeout=max(0.0, timeout))

    def _seconds_to_next_retry(self) -> float:
        due = (
            TaskInstance.objects.filter(state=TaskInstanceState.UP_FOR_RETRY)
            .order_by("next_retry_at")
            .values_list("next_retry_at", flat=True)
            .first()
        )
        if due is None:
            return float("inf")
        return (due - timezone.now()).total_seconds()

    def stop(self) -> None:
        self._stop.set()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
