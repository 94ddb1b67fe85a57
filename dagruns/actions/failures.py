"""Failing a try from outside the task: the scheduler found its runner dead, its heartbeat
stopped (a zombie) or it never left the queue. The same retry rule applies as when the task
itself reports a failure, and the reason is appended to the try's log so the person reading
it sees why."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from dagruns.actions.fail_fast import stop_remaining_tasks
from dagruns.actions.task_email import email_on_commit
from dagruns.actions.tries import (
    failure_outcome,
    find_task,
    record_try_history,
    serialized_dag_of,
)
from dagruns.domain.logs import append_lines, ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

TIS = TaskInstanceState


def fail_try_from_outside(ti: TaskInstance, reason: str, now: datetime) -> int:
    """Returns 1 when the try was failed (or set up for retry), 0 when it had already moved on."""
    with transaction.atomic():
        locked = (
            TaskInstance.objects.select_for_update(of=("self",))
            .select_related("dag_run")
            .filter(pk=ti.pk, try_number=ti.try_number, state__in=(TIS.QUEUED, TIS.RUNNING))
            .first()
        )
        if locked is None:
            return 0
        task = find_task(serialized_dag_of(locked), locked.task_id)
        state, retry_at = failure_outcome(locked, task, now, fail_without_retry=False)
        locked.check_transition(state)
        locked.state = state
        locked.next_retry_at = retry_at
        locked.end_date = now
        if locked.start_date:
            locked.duration = (now - locked.start_date).total_seconds()
        locked.save(update_fields=["state", "next_retry_at", "end_date", "duration", "updated_at"])
        record_try_history(locked)
        append_lines(ti_log_path(locked), [f"ERROR - {reason} Marking the try {state}."])
        email_on_commit(locked, state, task)  # email_on_failure / email_on_retry, after commit
        if state == TIS.FAILED:
            stop_remaining_tasks(locked, serialized_dag_of(locked), now)  # the DAG's fail_fast
        transaction.on_commit(wake_schedulers)
        events.notify(
            "ti",
            dag_id=locked.dag_id,
            run_id=locked.run_id,
            task_id=locked.task_id,
            try_number=locked.try_number,
        )
    return 1
