"""Ending a deferred task in the triggerer (Airflow's `end_from_trigger`): its trigger yielded
a TaskSuccessEvent, TaskFailedEvent or TaskSkippedEvent, so the task ends in that state without
resuming in a worker — no slot, no runner (Airflow's `handle_event_submit` for a
`BaseTaskEndEvent`).

The try ends as every other end does: under the row lock, only while still deferred on that
trigger (so two triggerers firing one trigger end it once), the transition table's check, the
try's history row, its audit row, its log line, fail_fast and email_on_failure, and the
schedulers woken to schedule the downstream tasks. A batch of events (a thousand triggers
firing together) is ended in a few statements, not a few per task: the triggerer holds the
write transaction while it runs. The event's `xcoms` are pushed first, as
XComs of the try, under the usual size limit. As in Airflow, a TaskFailedEvent fails the task
without retrying it.

Task callbacks, as in Airflow 3 (`handle_event_submit` for a `BaseTaskEndEvent` sends a
TaskCallbackRequest for a success or a failure; the DAG processor's `_execute_task_callbacks`
runs only failure callbacks): a task its trigger failed that has an on_failure_callback gets a
callback request, written in this transaction, which the DAG processor runs with the DAG's file
(scheduler/processor/callbacks.py), its output going to the run's callback log; the try's log
says so. A task its trigger ended successfully does not run its on_success_callback — Airflow 3's
DAG processor logs "Task callback requested but is not a failure callback" and drops it — and
the try's log says that too. A skip runs no callback (Airflow sends none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dagruns.actions.deferral import TRIGGERER_ACTOR
from dagruns.actions.fail_fast import stop_remaining_tasks
from dagruns.actions.task_email import email_on_commit
from dagruns.actions.tries import (
    find_task,
    record_tries_history,
    serialized_dag_of,
    try_audit_entry,
)
from dagruns.actions.xcoms import XComNotJson, XComTooLarge, check_value, do_set_xcom
from dagruns.domain import logs
from dagruns.domain.versions import fileloc_of_version
from dagruns.models import (
    AuditEvent,
    DagCallbackRequest,
    TaskInstance,
    TaskInstanceState,
    Trigger,
)
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

State = TaskInstanceState
END_STATES = frozenset({State.SUCCESS, State.FAILED, State.SKIPPED})
ENDED_FIELDS = ["state", "end_date", "duration", "next_retry_at", "trigger", "trigger_timeout"]


@dataclass(frozen=True)
class TaskEnd:
    """What a task-end event asks: the state to end in and the XComs to push first."""

    state: str
    xcoms: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.state not in END_STATES:
            raise ValueError(f"a trigger cannot end a task as {self.state!r}")


# A task instance a trigger ended: its serialized task, its log lines, the XComs to push.
Ended = tuple[TaskInstance, dict[str, Any] | None, list[str], dict[str, Any]]


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
    return do_end_from_triggers({trigger_id: TaskEnd(state, xcoms or {})}, now=now)


def do_end_from_triggers(ends: Mapping[int, TaskEnd], *, now: datetime | None = None) -> int:
    """do_end_from_trigger for a batch of triggers (trigger id → its event's end)."""
    now = now or timezone.now()
    with transaction.atomic():
        # The row locks keep every other move off these rows until commit (on SQLite the
        # IMMEDIATE transaction holds the write lock from BEGIN), so what is deferred on the
        # trigger here is still deferred on it when the batch writes.
        waiting = list(
            TaskInstance.objects.filter(trigger_id__in=list(ends), state=State.DEFERRED)
            .select_for_update(of=("self",))
            .select_related("dag_run")
        )
        ended: list[Ended] = []
        for ti in waiting:
            assert ti.trigger_id is not None
            task = find_task(serialized_dag_of(ti), ti.task_id)
            lines, xcoms = _end(ti, ends[ti.trigger_id], now)
            ended.append((ti, task, lines + _request_callback(ti, task, now), xcoms))
        if ended:
            _write(ended, now)
        Trigger.objects.filter(pk__in=list(ends), asset_watchers__isnull=True).delete()
        if ended:
            transaction.on_commit(wake_schedulers)
    return len(ended)


def _request_callback(ti: TaskInstance, task: dict[str, Any] | None, now: datetime) -> list[str]:
    """Airflow's TaskCallbackRequest for the try's end (see the module docstring): a callback
    request for the DAG processor when the try failed and has an on_failure_callback; the log
    lines that tell the user where its callback runs, or that it does not."""
    if task is None:
        return []
    if ti.state == State.FAILED and task.get("has_on_failure_callback"):
        version_id = ti.dag_version_id or ti.dag_run.dag_version_id
        assert version_id is not None  # a serialized task was found through it
        DagCallbackRequest.objects.create(
            dag_run_id=ti.dag_run_id,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            fileloc=fileloc_of_version(version_id),
            is_failure=True,
            reason="task_failure",
            created_at=now,
            task_id=ti.task_id,
            map_index=ti.map_index,
            try_number=ti.try_number,
        )
        return [
            f"{_stamp(now)} INFO - Sending the task's on_failure_callback to the DAG processor: "
            "its output goes to the run's callback log"
        ]
    if ti.state == State.SUCCESS and task.get("has_on_success_callback"):
        return [
            f"{_stamp(now)} WARNING - on_success_callback not run: as in Airflow 3, a task "
            "ended by its trigger (TaskSuccessEvent) runs only a failure callback"
        ]
    return []


def _end(ti: TaskInstance, end: TaskEnd, now: datetime) -> tuple[list[str], dict[str, Any]]:
    """Set `ti`'s final fields (not yet written); its log lines and the XComs to push."""
    lines = [f"{_stamp(now)} INFO - Trigger {ti.trigger_id} ended the task in the triggerer"]
    final, xcoms = end.state, end.xcoms
    refused = _unstorable(end.xcoms)
    if refused:
        # As a task whose push fails: none of them is stored (a failure event's neither:
        # pushing a refused one would raise and roll back the triggerer's whole batch).
        final, xcoms = State.FAILED, {}
        lines.append(f"{_stamp(now)} ERROR - {refused}")
    ti.check_transition(final)
    ti.state = final
    ti.end_date = now
    ti.duration = (now - ti.start_date).total_seconds() if ti.start_date else None
    ti.next_retry_at = None
    ti.trigger_timeout = None
    lines.append(
        f"{_stamp(now)} INFO - Marking task as {final.upper()} from the triggerer "
        "(end_from_trigger): it does not resume in a worker."
    )
    return lines, xcoms


def _write(ended: list[Ended], now: datetime) -> None:
    """The batch's writes: the task instances, XComs, history and audit rows, then per try
    its log lines, email, fail_fast and page events."""
    tis = [ti for ti, _task, _lines, _xcoms in ended]
    trigger_ids = {ti.pk: ti.trigger_id for ti in tis}
    for ti in tis:
        ti.trigger = None
        ti.updated_at = now
    TaskInstance.objects.bulk_update(tis, [*ENDED_FIELDS, "updated_at"])
    record_tries_history(tis)
    AuditEvent.objects.bulk_create(
        [
            try_audit_entry(
                TRIGGERER_ACTOR,
                str(ti.state),
                ti,
                {
                    "duration": ti.duration,
                    "trigger_id": trigger_ids[ti.pk],
                    "reason": "ended by its trigger",
                },
            )
            for ti in tis
        ]
    )
    for ti, task, lines, xcoms in ended:
        for key, value in xcoms.items():
            do_set_xcom(ti.dag_run, ti.task_id, key, value, ti.map_index)
        email_on_commit(ti, str(ti.state), task)  # email_on_failure
        if ti.state == State.FAILED:
            stop_remaining_tasks(ti, serialized_dag_of(ti), now)  # the DAG's fail_fast
        logs.append_lines(logs.ti_log_path(ti), lines)
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
        log_event = {
            "kind": "log",
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "try_number": ti.try_number,
        }
        transaction.on_commit(lambda event=log_event: events.publish(event))  # type: ignore[misc]


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
