"""Ending a deferred task in the triggerer (Airflow's `end_from_trigger`): its trigger yielded
a TaskSuccessEvent, TaskFailedEvent or TaskSkippedEvent, so the task ends in that state without
resuming in a worker — no slot, no runner (Airflow's `handle_event_submit` for a
`BaseTaskEndEvent`).

The try ends as every other end does: a conditional UPDATE on `state='deferred'` and the
trigger id (so two triggerers firing one trigger end it once), the transition table's check,
the try's history row, its audit row, its log line, fail_fast and email_on_failure, and the
schedulers woken to schedule the downstream tasks. The event's `xcoms` are pushed first, as
XComs of the try, under the usual size limit. As in Airflow, a TaskFailedEvent fails the task
without retrying it.

One deliberate difference: Airflow runs the task's on_success_callback / on_failure_callback
in its DAG processor; here task callbacks run only in a worker (the triggerer never imports
DAG files), so a task with a callback for its end state resumes in a worker instead, at
TRIGGER_END_METHOD, which pushes the XComs and ends the try in that state there, running the
callback as any end in a worker does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dagruns.actions.deferral import TRIGGERER_ACTOR, resume_deferred
from dagruns.actions.fail_fast import stop_remaining_tasks
from dagruns.actions.task_email import email_on_commit
from dagruns.actions.tries import _record_try, find_task, record_try_history, serialized_dag_of
from dagruns.actions.xcoms import XComNotJson, XComTooLarge, check_value, do_set_xcom
from dagruns.domain import logs
from dagruns.models import TaskInstance, TaskInstanceState, Trigger
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers
from dagruns.sdk.triggers.ending import TRIGGER_END_METHOD
from dagruns.sdk.triggers.serde import encode

State = TaskInstanceState
END_STATES = frozenset({State.SUCCESS, State.FAILED, State.SKIPPED})
# The task callback that must run when a task ends in each state (Airflow has none for a
# skip sent by a trigger).
CALLBACK_OF = {State.SUCCESS: "has_on_success_callback", State.FAILED: "has_on_failure_callback"}


def do_end_from_trigger(
    trigger_id: int,
    state: str,
    xcoms: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """The trigger yielded a task-end event: end the task instances deferred on it in `state`
    (success, failed or skipped) after pushing `xcoms`. Returns how many ended (0: already
    resumed, cleared or timed out meanwhile)."""
    if state not in END_STATES:
        raise ValueError(f"a trigger cannot end a task as {state!r}")
    now = now or timezone.now()
    ended = 0
    with transaction.atomic():
        waiting = list(
            TaskInstance.objects.filter(trigger_id=trigger_id, state=State.DEFERRED)
            .select_for_update(of=("self",))
            .select_related("dag_run")
        )
        for ti in waiting:
            ended += _end(ti, trigger_id, state, xcoms or {}, now)
        Trigger.objects.filter(pk=trigger_id).delete()
        if ended:
            transaction.on_commit(wake_schedulers)
    return ended


def _end(
    ti: TaskInstance, trigger_id: int, state: str, xcoms: dict[str, Any], now: datetime
) -> int:
    serialized = serialized_dag_of(ti)
    task = find_task(serialized, ti.task_id)
    callback = CALLBACK_OF.get(state)  # type: ignore[call-overload]
    if task is not None and callback is not None and task.get(callback):
        # Its callback is user code: only a worker runs it (see the module docstring).
        end = {"state": state, "xcoms": encode(xcoms)}
        return resume_deferred(ti, trigger_id, now, end, TRIGGER_END_METHOD)
    lines = [f"{_stamp(now)} INFO - Trigger {trigger_id} ended the task in the triggerer"]
    final = state
    refused = _unstorable(xcoms)
    if refused:
        final = State.FAILED  # as a task whose push fails: none of them is stored
        lines.append(f"{_stamp(now)} ERROR - {refused}")
    ti.check_transition(final)
    fields: dict[str, Any] = {
        "state": final,
        "end_date": now,
        "duration": (now - ti.start_date).total_seconds() if ti.start_date else None,
        "next_retry_at": None,
        "trigger": None,
        "trigger_timeout": None,
        "updated_at": now,
    }
    # Still deferred on this trigger: a clear, a timeout or another triggerer's firing that
    # committed first leaves 0 rows, so the try ends once.
    moved = TaskInstance.objects.filter(
        pk=ti.pk, state=State.DEFERRED, trigger_id=trigger_id, try_number=ti.try_number
    ).update(**fields)
    if not moved:
        return 0
    if final == state:
        for key, value in xcoms.items():
            do_set_xcom(ti.dag_run, ti.task_id, key, value, ti.map_index)
    for name, value in fields.items():
        setattr(ti, name, value)
    record_try_history(ti)
    email_on_commit(ti, final, task)  # email_on_failure
    if final == State.FAILED:
        stop_remaining_tasks(ti, serialized, now)  # the DAG's fail_fast
    lines.append(
        f"{_stamp(now)} INFO - Marking task as {final.upper()} from the triggerer "
        "(end_from_trigger): it does not resume in a worker."
    )
    logs.append_lines(logs.ti_log_path(ti), lines)
    _record_try(
        TRIGGERER_ACTOR,
        final,
        ti,
        {
            "duration": fields["duration"],
            "trigger_id": trigger_id,
            "reason": "ended by its trigger",
        },
    )
    events.notify(
        "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
    )
    events.publish(
        {
            "kind": "log",
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "try_number": ti.try_number,
        }
    )
    return 1


def _unstorable(xcoms: dict[str, Any]) -> str | None:
    """Why one of the event's XComs cannot be stored (not JSON, over ORCH_XCOM_MAX_SIZE)."""
    for key, value in xcoms.items():
        try:
            check_value(value)
        except (XComNotJson, XComTooLarge) as exc:
            return f"Could not push XCom {key!r} of the event: {exc}"
    return None


def _stamp(now: datetime) -> str:
    return f"[triggerer] [{now.isoformat(sep=' ', timespec='milliseconds')}]"
