"""Giving a try back to the queue when it never started: its runner could not reach the
Execution API to claim it (an API server outage). No task code ran, so no retry is used: the
try goes from queued back to scheduled with the same try number, and the scheduler queues it
again (with a fresh token)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from dagruns.domain.logs import append_lines, ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

TIS = TaskInstanceState


def requeue_unclaimed_try(ti: TaskInstance, reason: str, now: datetime) -> int:
    """Returns 1 when the try went back to scheduled, 0 when it had moved on (claimed after
    all, cleared, failed)."""
    with transaction.atomic():
        changed = TaskInstance.objects.filter(
            pk=ti.pk, try_number=ti.try_number, state=TIS.QUEUED
        ).update(state=TIS.SCHEDULED, queued_dttm=None, scheduled_dttm=now, updated_at=now)
        if not changed:
            return 0
        append_lines(
            ti_log_path(ti),
            [f"WARNING - {reason} The try goes back to the queue without using a retry."],
        )
        transaction.on_commit(wake_schedulers)
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
    return 1
