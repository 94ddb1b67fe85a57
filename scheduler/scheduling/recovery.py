"""Recovery at start: a scheduler resolves, within its first tick, the tries a previous
incarnation (killed, crashed, stopped past its grace period) left queued or running, instead of
waiting for the heartbeat timeout (ORCH_TASK_HEARTBEAT_TIMEOUT) and the queued timeout
(ORCH_TASK_QUEUED_TIMEOUT) to notice them:

* a running try whose runner process is still alive on this host is *adopted*: it keeps
  running and reporting to the API server; this scheduler watches the process (a pidfd) and
  fails the try only if the runner ends without having reported, as it does for its own runners;
* a running try whose runner is gone from this host started and was interrupted: it is failed
  now through the usual retry rule (Airflow treats a lost worker the same way), with a log line
  saying what happened;
* a queued try never started (its runner had not claimed it) whose queueing scheduler is gone
  (Airflow's queued_by_job_id) goes back to `scheduled` without using a retry; a try queued by
  a live peer is that peer's. A try with no recorded queuer (`dags test`, rows from before the
  field) is re-queued only when no other scheduler is alive;
* tries claimed on another host are left to the heartbeat timeout: a pid means nothing here;
* tries of an executor whose runners do not live with the scheduler (Celery: their worker owns
  them, and their message waits in the broker while they are queued) are left to it: the
  executor adopts them (scheduling/adoption.py, right after this and then every
  ORCH_ORPHANED_TASKS_CHECK_INTERVAL), a running one keeps reporting, a lost one is found by
  the heartbeat timeout, a queued one whose message was lost is sent again by the health step
  (scheduling/health.py).

Scheduler Job rows whose process is gone are ended as failed on the way (the health endpoint
reads them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from dagruns.actions.failures import fail_try_from_outside
from dagruns.actions.requeue import requeue_try
from dagruns.domain.jobs import end_job
from dagruns.models import Job, TaskInstance, TaskInstanceState
from scheduler.executors.base import REMOTE_EXECUTORS
from scheduler.executors.liveness import process_alive, this_host

log = logging.getLogger(__name__)
TIS = TaskInstanceState
_TRY_FIELDS = (
    "id", "dag_id", "run_id", "task_id", "map_index", "try_number", "state", "hostname", "pid",
    "start_date", "dag_run_id",
)  # fmt: skip


@dataclass
class RecoveryReport:
    """What recovery at start did with the tries a previous incarnation left behind."""

    adopted: int = 0
    requeued: int = 0
    failed: int = 0
    dead_schedulers: int = 0

    @property
    def work(self) -> int:
        return self.adopted + self.requeued + self.failed


@dataclass
class AdoptedRunner:
    ti_id: str
    try_number: int
    pid: int
    pidfd: int


@dataclass
class AdoptedRunners:
    """Runners a previous incarnation started that still run: watched through pidfds, which
    become readable when the process ends although it is not our child."""

    runners: dict[str, AdoptedRunner] = field(default_factory=dict)

    def adopt(self, ti: TaskInstance) -> bool:
        """Watch `ti`'s runner if it is alive; False when it is not (or cannot be watched)."""
        if ti.pid is None:
            return False
        try:
            pidfd = os.pidfd_open(ti.pid)
        except OSError:
            return False
        # Checked after opening: the pidfd now pins this very process, not a later namesake.
        if not process_alive(ti.pid, ti.start_date):
            os.close(pidfd)
            return False
        self.runners[str(ti.pk)] = AdoptedRunner(str(ti.pk), ti.try_number, ti.pid, pidfd)
        return True

    def wait_handles(self) -> list[int]:
        return [r.pidfd for r in self.runners.values()]

    def running_tries(self) -> dict[str, int]:
        return {r.ti_id: r.try_number for r in self.runners.values()}

    def __len__(self) -> int:
        return len(self.runners)

    def collect_ended(self, now: datetime) -> int:
        """Forget adopted runners that ended; fail the tries of those that ended without
        reporting. Returns how many tries were failed."""
        if not self.runners:
            return 0
        ended = [r for r in self.runners.values() if not _still_running(r.pidfd)]
        failed = 0
        for runner in ended:
            del self.runners[runner.ti_id]
            os.close(runner.pidfd)
            ti = (
                TaskInstance.objects.filter(
                    pk=runner.ti_id,
                    try_number=runner.try_number,
                    state__in=(TIS.QUEUED, TIS.RUNNING),
                )
                .only(*_TRY_FIELDS)
                .first()
            )
            if ti is not None:
                failed += fail_try_from_outside(
                    ti,
                    f"The task runner (pid {runner.pid}), adopted after a scheduler restart, "
                    "exited without reporting a final state.",
                    now,
                )
        return failed

    def kill_all(self) -> None:
        """SIGKILL every adopted runner (a shutdown past its grace period)."""
        for runner in self.runners.values():
            # The runner leads its process group; the pidfd reaches it even if it left it.
            with contextlib.suppress(OSError):
                os.killpg(runner.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(runner.pidfd, signal.SIGKILL)

    def close(self) -> None:
        for runner in self.runners.values():
            os.close(runner.pidfd)
        self.runners.clear()


def _still_running(pidfd: int) -> bool:
    readable, _, _ = select.select([pidfd], [], [], 0)
    return not readable


def recover_at_start(me: Job, adopted: AdoptedRunners, now: datetime) -> RecoveryReport:
    """Resolve what previous scheduler incarnations left queued or running (module docstring)."""
    report = RecoveryReport()
    host = this_host()
    live_peers, report.dead_schedulers = end_dead_schedulers(me, host, now)
    running = (
        TaskInstance.objects.filter(state=TIS.RUNNING, hostname=host)
        .exclude(executor__in=REMOTE_EXECUTORS)
        .only(*_TRY_FIELDS)
    )
    for ti in running:
        if adopted.adopt(ti):
            report.adopted += 1
            continue
        report.failed += fail_try_from_outside(
            ti,
            f"The task runner (pid {ti.pid} on {host}) is gone: it ended with the previous "
            "scheduler before reporting a final state.",
            now,
        )
    orphaned = (
        TaskInstance.objects.filter(state=TIS.QUEUED)
        .exclude(executor__in=REMOTE_EXECUTORS)
        .exclude(queued_by_job_id__in=live_peers)
    )
    if live_peers:
        orphaned = orphaned.exclude(queued_by_job_id=None)
    for ti in orphaned.only(*_TRY_FIELDS):
        report.requeued += requeue_try(
            ti, "The scheduler that queued this try stopped before a runner started it.", now
        )
    if report.work or report.dead_schedulers:
        log.info(
            "recovered at start: %d runner(s) adopted, %d try(ies) queued again, %d failed; "
            "%d dead scheduler(s) ended",
            report.adopted,
            report.requeued,
            report.failed,
            report.dead_schedulers,
        )
    return report


def end_dead_schedulers(me: Job, host: str, now: datetime) -> tuple[set[int], int]:
    """Returns (the live peers' job ids, how many dead ones were ended). On this host a
    scheduler is alive when its process is; elsewhere when its heartbeat is younger than
    ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD (Airflow's adoption of orphaned tasks uses its
    scheduler_health_check_threshold the same way)."""
    threshold = timedelta(seconds=float(settings.ORCH.scheduler_health_check_threshold))
    alive: set[int] = set()
    dead = 0
    peers = Job.objects.filter(job_type="scheduler", state="running", end_date=None).exclude(
        pk=me.pk
    )
    for job in peers:
        if job.hostname == host:
            is_alive = process_alive(job.pid, job.start_date)
        else:
            is_alive = job.latest_heartbeat >= now - threshold
        if is_alive:
            alive.add(job.pk)
        else:
            end_job(job, "failed")
            dead += 1
    return alive, dead
