"""Giving a try back to the scheduler without using a retry, when infrastructure, not the
task, interrupted it: its runner could not reach the Execution API to claim it (an API server
outage), the scheduler that queued it died before starting a runner, or a graceful shutdown
stopped it. The try keeps its number, goes back to `scheduled` and is queued again (with a
fresh token); the reason is appended to the try's log so its reader sees what happened before
the run that follows."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from dagruns.domain.logs import append_lines, ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState, XCom
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

TIS = TaskInstanceState


def requeue_try(ti: TaskInstance, reason: str, now: datetime) -> int:
    """Queued/running → scheduled at the same try number. Returns 1 when it did, 0 when the
    try had already moved on (finished, cleared, claimed meanwhile by a newer try)."""
    ti.check_transition(TIS.SCHEDULED)
    with transaction.atomic():
        # Conditional on the state and try it was read at: a runner's report or a clear
        # landing in between wins, and this does nothing.
        changed = TaskInstance.objects.filter(
            pk=ti.pk, try_number=ti.try_number, state=ti.state
        ).update(
            state=TIS.SCHEDULED,
            scheduled_dttm=now,
            queued_dttm=None,
            start_date=None,
            end_date=None,
            duration=None,
            hostname="",
            pid=None,
            last_heartbeat_at=None,
            queued_by_job_id=None,
            updated_at=now,
        )
        if not changed:
            return 0
        # What the interrupted run pushed must not be read as this try's result.
        XCom.objects.filter(
            dag_run_id=ti.dag_run_id, task_id=ti.task_id, map_index=ti.map_index
        ).delete()
        append_lines(ti_log_path(ti), [f"WARNING - {reason} Queued again without using a retry."])
        transaction.on_commit(wake_schedulers)
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
    return 1
