"""Steps of a scheduler tick that deal with tries that went wrong outside the task's control:
a runner that ended without reporting, a running try whose heartbeat stopped (a zombie), a try
stuck in queued, and runners still going for tries that were cleared or marked meanwhile."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from dagruns.actions.failures import fail_try_from_outside
from dagruns.actions.requeue import requeue_try
from dagruns.domain.logs import append_lines, ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState
from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.executors.liveness import rule_out_runner
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_OK
from scheduler.scheduling.queueing import workload_for

log = logging.getLogger(__name__)
TIS = TaskInstanceState
_ACTIVE = (TIS.QUEUED, TIS.RUNNING)


def fail_ended_runners(events: list[ExecutorEvent], now: datetime) -> int:
    """A runner ended but its try is still queued/running: it died before it could report
    (killed, crashed, OOM). Fail the try now (retry if it has tries left) rather than waiting
    for the zombie timeout."""
    if not events:
        return 0
    # One query for all ended runners: most of them reported their state and are done.
    still_active = {
        str(ti.pk): ti
        for ti in TaskInstance.objects.filter(pk__in=[e.ti_id for e in events], state__in=_ACTIVE)
    }
    failed = 0
    for event in events:
        ti = still_active.get(str(event.ti_id))
        if ti is None or ti.try_number != event.try_number:
            continue
        if event.returncode == EXIT_OK:
            # It reported, or its claim was refused because another runner holds this try (a
            # try re-queued after its scheduler died): that runner reports, not this one.
            continue
        if event.returncode == EXIT_NOT_CLAIMED and ti.state == TIS.QUEUED:
            # The runner never reached the API to claim it (or a Celery worker could not create
            # its pod, which says why): no task code ran, no retry used.
            requeue_try(
                ti,
                event.reason
                or "The task runner could not reach the Execution API to claim the try.",
                now,
            )
            continue
        how = f"signal {-event.returncode}" if event.returncode < 0 else f"code {event.returncode}"
        if event.details:
            append_lines(ti_log_path(ti), event.details)
        failed += fail_try_from_outside(
            ti,
            event.reason or f"The task runner exited ({how}) without reporting a final state.",
            now,
        )
    return failed


def fail_zombies(now: datetime) -> int:
    """Airflow's zombie detection: a running try without a heartbeat for longer than
    ORCH_TASK_HEARTBEAT_TIMEOUT lost its worker (host gone, runner frozen). A frozen runner
    still alive on this host is killed first, and its try failed only once it is gone: the
    retry must never overlap it. The log line names the host or Celery worker that ran it."""
    limit = now - timedelta(seconds=settings.ORCH.task_heartbeat_timeout)
    failed = 0
    for ti in TaskInstance.objects.filter(state=TIS.RUNNING, last_heartbeat_at__lt=limit):
        if not rule_out_runner(str(ti.pk), ti.hostname, ti.pid, ti.start_date):
            continue  # killed just now; failed on the next check, once it is gone
        where = ti.hostname or "an unknown host"
        what = "Celery worker" if "@" in where else "host"
        reason = (
            f"Detected zombie: no heartbeat since {_iso(ti.last_heartbeat_at)} "
            f"(more than {settings.ORCH.task_heartbeat_timeout:g} s) from its task runner "
            f"(pid {ti.pid}) on {what} {where}: that {what} or its runner was lost."
        )
        if fail_try_from_outside(ti, reason, now):
            failed += 1
            log.warning("%s: %s", ti, reason)
    return failed


def resend_interval(queued_timeout: float, resends: int) -> float:
    """Seconds a try waits in the queue before its message is sent again:
    ORCH_TASK_QUEUED_TIMEOUT split into ORCH_TASK_QUEUED_RESENDS + 1 equal parts; the last
    ends with the try failed."""
    return queued_timeout / (resends + 1)


def fail_stuck_queued(now: datetime, executor: BaseExecutor | None = None) -> int:
    """A try queued for longer than ORCH_TASK_QUEUED_TIMEOUT was never picked up (a worker
    queue nobody listens to, a lost message): fail it so retries and the run can proceed, as
    Airflow's task_queued_timeout does.

    Before that, a try whose executor sends messages a broker can lose (Celery: a Redis
    restarted with nothing on disk) is sent again, same try with a fresh token, each time it
    has waited another `resend_interval`, up to ORCH_TASK_QUEUED_RESENDS times (a copy that was
    not lost after all is refused at the claim: the try still runs once). Returns how many
    tries were failed."""
    timeout = float(settings.ORCH.task_queued_timeout)
    resends = int(settings.ORCH.task_queued_resends)
    limit = now - timedelta(seconds=timeout)
    failed = 0
    for ti in TaskInstance.objects.filter(state=TIS.QUEUED, queued_dttm__lt=limit):
        assert ti.queued_dttm is not None  # __lt never matches NULL
        reason = (
            f"Queued since {_iso(ti.queued_dttm)} and never started (more than {timeout:g} s, "
            "ORCH_TASK_QUEUED_TIMEOUT)"
        )
        if executor is not None and resends and executor.can_resend(ti.executor):
            reason += (
                f"; its message was sent {resends + 1} times (ORCH_TASK_QUEUED_RESENDS={resends})"
                f" and no worker took it: does a live worker serve queue '{ti.queue}'?"
            )
        if fail_try_from_outside(ti, reason + ".", now):
            failed += 1
            log.warning("%s: %s", ti, reason)
    if executor is not None and resends:
        _resend_stuck_queued(executor, now, timeout, resends)
    return failed


def _resend_stuck_queued(
    executor: BaseExecutor, now: datetime, timeout: float, resends: int
) -> None:
    interval = resend_interval(timeout, resends)
    stuck = TaskInstance.objects.filter(
        state=TIS.QUEUED, queued_dttm__lt=now - timedelta(seconds=interval)
    ).select_related("dag_run")
    for ti in stuck:
        if not executor.can_resend(ti.executor):
            continue
        assert ti.queued_dttm is not None
        waited = (now - ti.queued_dttm).total_seconds()
        due = min(resends, int(waited // interval))
        if due < 1 or executor.resends_done(str(ti.pk), ti.try_number) >= due:
            continue
        executor.resend(workload_for(ti), due)
        line = (
            f"Queued since {_iso(ti.queued_dttm)} and not started after {waited:.0f} s: the "
            f"broker may have lost its message; sent again (re-send {due} of {resends}, "
            "ORCH_TASK_QUEUED_RESENDS)."
        )
        append_lines(ti_log_path(ti), [f"WARNING - {line}"])
        log.warning("%s: %s", ti, line)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "never"


def stop_orphaned_runners(executor: BaseExecutor) -> int:
    """Kill runners whose try is no longer active (cleared, marked, run timed out). Their next
    heartbeat would tell them too; doing it here makes a clear take effect at once."""
    running = executor.running_tries()
    if not running:
        return 0
    active = {
        (str(pk), n)
        for pk, n in TaskInstance.objects.filter(
            pk__in=list(running), state__in=_ACTIVE
        ).values_list("pk", "try_number")
    }
    stopped = 0
    for ti_id, try_number in running.items():
        if (ti_id, try_number) not in active:
            stopped += executor.terminate(ti_id)
    return stopped
