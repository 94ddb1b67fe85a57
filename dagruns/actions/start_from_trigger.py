"""Starting a task in the triggerer (Airflow 2.10+/3's `start_from_trigger`): the scheduler
defers the task instance straight to its operator's `start_trigger_args` trigger instead of
scheduling it — no worker slot, no runner, `execute` never called (Airflow's `schedule_tis` →
`TaskInstance.defer_task`).

As in Airflow, that is a new try (try_number + 1, start_date now) in the `deferred` state with
the trigger row, `next_method`, `next_kwargs` and the timeout of the serialized
`start_trigger_args` (dagruns/sdk/start_trigger.py); from there it is any deferred try: the
trigger's event resumes `next_method` in a worker, a task-end event ends it in the triggerer
(dagruns/actions/trigger_end.py), a failure or the timeout fails it. A retry starts from the
trigger again, as Airflow's scheduler defers every schedulable try of such a task.

Each move is conditional on the state the scheduler read (none, or up_for_retry and due), under
the row lock, so a concurrent clear or a second scheduler cannot defer a task instance twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from dagruns.actions.audit import Actor
from dagruns.actions.tries import find_task, serialized_dag_of, try_audit_entry
from dagruns.domain import logs
from dagruns.models import AuditEvent, TaskInstance, TaskInstanceState, Trigger
from dagruns.notify import events
from dagruns.notify.trigger_wakeup import wake_triggerers

State = TaskInstanceState
SCHEDULER_ACTOR = Actor(name="scheduler")

TiKey = tuple[str, int]


def do_start_from_trigger(dag_run_id: int, keys: Iterable[TiKey], now: datetime) -> int:
    """Defer each of these task instances of the run (state none, or up_for_retry whose retry
    is due) on its task's start trigger; returns how many were deferred."""
    wanted = Q(pk__in=[])
    for task_id, map_index in keys:
        wanted |= Q(task_id=task_id, map_index=map_index)
    deferred = 0
    with transaction.atomic():
        candidates = (
            TaskInstance.objects.filter(wanted, dag_run_id=dag_run_id)
            .filter(Q(state__isnull=True) | Q(state=State.UP_FOR_RETRY, next_retry_at__lte=now))
            .select_for_update(of=("self",))
            .select_related("dag_run")
        )
        for ti in candidates:
            task = find_task(serialized_dag_of(ti), ti.task_id)
            if task is None or "start_trigger_args" not in task:
                continue  # a version without it: the task is scheduled as usual next tick
            deferred += _defer(ti, task["start_trigger_args"], now)
        if deferred:
            transaction.on_commit(wake_triggerers)
    return deferred


def _defer(ti: TaskInstance, args: dict[str, Any], now: datetime) -> int:
    previous = ti.state
    ti.check_transition(State.DEFERRED)
    trigger = Trigger(classpath=args["trigger_cls"], created_date=now)
    trigger.kwargs = args.get("trigger_kwargs") or {}
    trigger.save()
    timeout = args.get("timeout")
    fields: dict[str, Any] = {
        "state": State.DEFERRED,
        "try_number": ti.try_number + 1,
        "scheduled_dttm": now,
        "start_date": now,
        "end_date": None,
        "duration": None,
        "next_retry_at": None,
        "trigger": trigger,
        "trigger_timeout": now + timedelta(seconds=timeout) if timeout is not None else None,
        "next_method": args["next_method"],
        "next_kwargs": args.get("next_kwargs") or {},
        "updated_at": now,
    }
    moved = TaskInstance.objects.filter(pk=ti.pk, state=previous, try_number=ti.try_number).update(
        **fields
    )
    if moved != 1:  # unreachable under the row lock; kept so a race can never defer twice
        trigger.delete()
        return 0
    for name, value in fields.items():
        setattr(ti, name, value)
    AuditEvent.objects.bulk_create(
        [
            try_audit_entry(
                SCHEDULER_ACTOR,
                State.DEFERRED,
                ti,
                {
                    "trigger_id": trigger.pk,
                    "classpath": trigger.classpath,
                    "next_method": ti.next_method,
                    "reason": "start_from_trigger",
                },
            )
        ]
    )
    stamp = f"[scheduler] [{now.isoformat(sep=' ', timespec='milliseconds')}]"
    logs.append_lines(
        logs.ti_log_path(ti),
        [
            f"{stamp} INFO - Starting the task from the triggerer (start_from_trigger): "
            f"deferred on trigger {trigger.pk} ({trigger.classpath}) without a worker; "
            f"the trigger's event resumes {ti.next_method}"
        ],
    )
    events.notify(
        "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
    )
    return 1
