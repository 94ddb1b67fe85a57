"""The life of one try of a task instance, as the Execution API reports it.

`do_start_try` (queued → running), `do_heartbeat`, `do_append_log` and `do_finish_try`
(running → success / failed / up_for_retry / skipped, with the retry decision, branch and
short-circuit skipping and the history row). `failure_outcome` and `record_try_history` are
shared with the scheduler's failing of dead tries (dagruns/actions/failures.py) and with the
clear action, so every finished try is decided and recorded the same way; `do_finish_try` with
an `actor` and a `reason` serves any other caller that must end a running try.

Every call names the try it speaks for (`try_number`, from the caller's token): a runner whose
try was cleared and rescheduled is told so (`StaleTry`) instead of touching the new try.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dagruns.actions.audit import Actor, audit_entry
from dagruns.actions.downstream_skips import check_downstream_skips
from dagruns.actions.fail_fast import stop_remaining_tasks
from dagruns.actions.task_email import email_on_commit
from dagruns.domain import logs
from dagruns.domain.versions import serialized_of_version
from dagruns.models import (
    AuditEvent,
    DagRun,
    TaskInstance,
    TaskInstanceHistory,
    TaskInstanceState,
    TaskReschedule,
    XCom,
)
from dagruns.models.states import ti_transition_allowed
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

State = TaskInstanceState

# Airflow's [core] max_task_retry_delay default: the cap of an exponential backoff before
# max_retry_delay is applied (and what keeps timedelta from overflowing).
MAX_RETRY_DELAY = 24 * 60 * 60
# Airflow's [core] default_task_retry_delay, for a task missing from its serialized DAG.
DEFAULT_RETRY_DELAY = 300.0

# What a branch or short-circuit may skip: tasks that have not started their try. A running
# or finished task downstream (another upstream let it start) is left alone.
SKIPPABLE_STATES = (State.SCHEDULED, State.QUEUED, State.UP_FOR_RETRY, State.UP_FOR_RESCHEDULE)
FINISH_STATES = frozenset({State.SUCCESS, State.FAILED, State.SKIPPED})
SKIP_DOWNSTREAM_MODES = frozenset({"all", "direct"})

RUNNER_ACTOR = Actor(name="task_runner")


class TaskInstanceNotFound(LookupError):
    def __init__(self, ti_id: uuid.UUID | str) -> None:
        super().__init__(f"task instance {ti_id} not found")
        self.ti_id = ti_id


class StaleTry(PermissionError):
    """The caller speaks for a try that is no longer the task instance's current one."""

    def __init__(self, ti: TaskInstance, try_number: int) -> None:
        super().__init__(
            f"the token is for try {try_number}, the task instance is at try {ti.try_number}"
        )
        self.try_number = try_number
        self.current_try_number = ti.try_number


class InvalidTaskState(Exception):
    """The task instance is not in the state the call needs (Execution API: 409)."""

    def __init__(self, previous_state: str | None, expected: str) -> None:
        super().__init__(f"task instance is {previous_state or 'none'}, expected {expected}")
        self.previous_state = previous_state
        self.expected = expected


# --- the serialized DAG -----------------------------------------------------------------------


def find_task(serialized: dict[str, Any] | None, task_id: str) -> dict[str, Any] | None:
    """The task dict of `task_id` in a serialized DAG, or None."""
    for task in (serialized or {}).get("tasks", ()):
        if task.get("task_id") == task_id:
            return task
    return None


def downstream_ids(
    serialized: dict[str, Any] | None, task_id: str, *, transitive: bool = False
) -> set[str]:
    """Ids of the tasks directly downstream of `task_id`, or all of them (`transitive`)."""
    by_id = {t.get("task_id"): t for t in (serialized or {}).get("tasks", ())}
    start = by_id.get(task_id)
    if start is None:
        return set()
    found: set[str] = set()
    frontier = list(start.get("downstream_task_ids") or ())
    while frontier:
        current = frontier.pop()
        if current in found:
            continue
        found.add(current)
        if transitive and current in by_id:
            frontier.extend(by_id[current].get("downstream_task_ids") or ())
    return found


def serialized_dag_of(ti: TaskInstance) -> dict[str, Any] | None:
    """The serialized DAG the try runs with (the task instance's version, else its run's),
    from the per-process cache of immutable versions (dagruns/domain/versions.py)."""
    version_id = ti.dag_version_id or ti.dag_run.dag_version_id
    return serialized_of_version(version_id) if version_id is not None else None


# --- retries ----------------------------------------------------------------------------------


def backoff_multiplier(value: Any) -> float:
    """Airflow 3's reading of `retry_exponential_backoff`: True doubles (2.0), False/None/0
    means none, a number is the multiplier itself."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 2.0
    return float(value)


def next_retry_datetime(
    task: dict[str, Any] | None,
    *,
    dag_id: str,
    task_id: str,
    logical_date: datetime | None,
    try_number: int,
    end_date: datetime,
) -> datetime:
    """When a failed try may be retried; Airflow's `TaskInstance.next_retry_datetime`.

    Without backoff: `end_date + retry_delay`. With backoff: a delay between
    `retry_delay * multiplier ** (try_number - 1)` and twice that, picked by a hash of the task
    instance and try (deterministic, so every scheduler agrees; spread, so retries of many
    tasks do not stampede), capped at MAX_RETRY_DELAY and then at `max_retry_delay`.
    """
    task = task or {}
    delay = timedelta(seconds=float(task.get("retry_delay", DEFAULT_RETRY_DELAY) or 0))
    raw = backoff_multiplier(task.get("retry_exponential_backoff"))
    multiplier = raw if raw != 0 else 1.0
    if multiplier != 1.0 and multiplier > 0:
        try:
            min_backoff = math.ceil(delay.total_seconds() * (multiplier ** (try_number - 1)))
        except OverflowError:
            min_backoff = MAX_RETRY_DELAY
        # A zero retry_delay would make the modulo below divide by zero.
        min_backoff = max(min_backoff, 1)
        logical = logical_date.isoformat() if logical_date is not None else None
        ti_hash = int(
            hashlib.sha1(
                f"{dag_id}#{task_id}#{logical}#{try_number}".encode(), usedforsecurity=False
            ).hexdigest(),
            16,
        )
        modded_hash = min_backoff + ti_hash % min_backoff
        delay = timedelta(seconds=min(modded_hash, MAX_RETRY_DELAY))
        max_retry_delay = task.get("max_retry_delay")
        if max_retry_delay:
            delay = min(timedelta(seconds=float(max_retry_delay)), delay)
    return end_date + delay


def failure_outcome(
    ti: TaskInstance,
    task: dict[str, Any] | None,
    end_date: datetime,
    fail_without_retry: bool,
    retry_delay_seconds: float | None = None,
) -> tuple[str, datetime | None]:
    """(state, next_retry_at) of a failed try: up_for_retry with its time while
    try_number <= max_tries, unless the task raised AirflowFailException; else failed.
    `retry_delay_seconds` (a retry policy's choice) replaces the task's delay, backoff and
    cap, as Airflow's retry_delay_override does. `ti.dag_run` must be loadable (its logical
    date seeds the backoff's hash)."""
    if fail_without_retry or ti.try_number > ti.max_tries:
        return State.FAILED, None
    if retry_delay_seconds is not None:
        return State.UP_FOR_RETRY, end_date + timedelta(seconds=retry_delay_seconds)
    return State.UP_FOR_RETRY, next_retry_datetime(
        task,
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        logical_date=ti.dag_run.logical_date,
        try_number=ti.try_number,
        end_date=end_date,
    )


# Earlier names, still imported by dagruns/actions/failures.py.
_failure_outcome = failure_outcome
_serialized_dag = serialized_dag_of


# --- history ----------------------------------------------------------------------------------

_HISTORY_SKIP = {"id", "task_instance", "updated_at"}


def record_try_history(ti: TaskInstance) -> TaskInstanceHistory:
    """Copy the task instance's current try, in its final state, into TaskInstanceHistory.

    Idempotent per try (the row is keyed by task instance and try number), so a clear that
    kills a try already recorded does not fail. Call it inside the transaction that ended the
    try, with `ti` holding the try's final values.
    """
    [history] = record_tries_history([ti])
    return history


def record_tries_history(tis: list[TaskInstance]) -> list[TaskInstanceHistory]:
    """record_try_history for many tries in one statement (a batch that ended together)."""
    names = [
        field.attname
        for field in TaskInstanceHistory._meta.concrete_fields
        if field.name not in _HISTORY_SKIP and field.name != "try_number"
    ]
    rows = [
        TaskInstanceHistory(
            task_instance_id=ti.pk,
            try_number=ti.try_number,
            **{name: getattr(ti, name) for name in names},
        )
        for ti in tis
    ]
    # One INSERT … ON CONFLICT DO UPDATE (SQLite and PostgreSQL), not a SELECT then a write:
    # this runs at the end of every try.
    TaskInstanceHistory.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["task_instance", "try_number"],
        update_fields=names,
    )
    return rows


# --- the transitions --------------------------------------------------------------------------


def _locked(ti_id: uuid.UUID | str, try_number: int) -> TaskInstance:
    """The task instance, row-locked until the transaction ends, checked to be at `try_number`.

    The lock serializes this call with the scheduler and the clear action on PostgreSQL; on
    SQLite the IMMEDIATE transaction holds the database write lock from BEGIN, to the same end.
    """
    try:
        ti = (
            TaskInstance.objects.select_for_update(of=("self",))
            # Not the versions: their serialized DAG comes from the per-process cache.
            .select_related("dag_run")
            .get(pk=ti_id)
        )
    except (TaskInstance.DoesNotExist, ValueError):
        raise TaskInstanceNotFound(ti_id) from None
    if ti.try_number != try_number:
        raise StaleTry(ti, try_number)
    return ti


def _current(ti_id: uuid.UUID | str, try_number: int) -> TaskInstance:
    try:
        # Just what the state check and the log path need (called for every log chunk).
        ti = TaskInstance.objects.only(
            "id", "try_number", "state", "dag_id", "run_id", "task_id", "map_index"
        ).get(pk=ti_id)
    except (TaskInstance.DoesNotExist, ValueError):
        raise TaskInstanceNotFound(ti_id) from None
    if ti.try_number != try_number:
        raise StaleTry(ti, try_number)
    return ti


def _move(ti: TaskInstance, expected: str, fields: dict[str, Any]) -> None:
    """Write `fields` only while the row is still at `expected` and at `ti`'s try (one
    conditional UPDATE), then onto `ti`; InvalidTaskState when another move won."""
    moved = TaskInstance.objects.filter(pk=ti.pk, state=expected, try_number=ti.try_number).update(
        **fields
    )
    if moved != 1:
        ti.refresh_from_db(fields=["state", "try_number"])
        raise InvalidTaskState(ti.state, expected)
    for name, value in fields.items():
        setattr(ti, name, value)


def _record_try(actor: Actor, event: str, ti: TaskInstance, extra: dict[str, Any]) -> None:
    """The audit row of a try's move, naming the try and its run's logical date."""
    try_audit_entry(actor, event, ti, extra).save(force_insert=True)


def try_audit_entry(
    actor: Actor, event: str, ti: TaskInstance, extra: dict[str, Any]
) -> AuditEvent:
    """_record_try's row, unsaved (for a batch of tries written at once)."""
    return audit_entry(
        actor,
        event,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        try_number=ti.try_number,
        logical_date=ti.dag_run.logical_date,
        extra=extra,
    )


def _wake_after_commit() -> None:
    transaction.on_commit(wake_schedulers)


def do_start_try(
    ti_id: uuid.UUID | str,
    try_number: int,
    *,
    hostname: str = "",
    pid: int | None = None,
    start_date: datetime | None = None,
    actor: Actor = RUNNER_ACTOR,
) -> TaskInstance:
    """Claim a queued try for a runner: queued → running. Returns the task instance with its
    dag_run, dag_version and dag loaded. Raises InvalidTaskState unless it is queued (a second
    delivery of the same workload, or a try cleared after it was queued, must not run)."""
    now = timezone.now()
    start_date = start_date or now
    with transaction.atomic():
        ti = _locked(ti_id, try_number)
        # The transition table allows running only from queued.
        if not ti_transition_allowed(ti.state, State.RUNNING, manual=False):
            raise InvalidTaskState(ti.state, State.QUEUED)
        fields = {
            "state": State.RUNNING,
            "start_date": start_date,
            "end_date": None,
            "duration": None,
            "hostname": hostname,
            "pid": pid,
            "last_heartbeat_at": now,
            "next_retry_at": None,
            "cpu_time": None,
            "peak_memory": None,
            "rendered_fields": {},
            "updated_at": now,
        }
        # The row lock already excludes a clear or a second claim landing between the read
        # above and this write; the conditional UPDATE keeps that true where locks are no-ops
        # (SQLite ignores FOR UPDATE) and makes the guard visible: exactly one claim wins.
        _move(ti, State.QUEUED, fields)
        # A new try starts with none of its predecessor's XComs (Airflow clears them here).
        # A first try has no predecessor: skip the query on the hot path. A try resuming
        # after a deferral (next_method set) is the same try: its XComs stay, as in Airflow.
        if try_number > 1 and not ti.next_method:
            XCom.objects.filter(
                dag_run_id=ti.dag_run_id, task_id=ti.task_id, map_index=ti.map_index
            ).delete()
        _record_try(actor, State.RUNNING, ti, {"hostname": hostname, "pid": pid})
        _wake_after_commit()
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
    return ti


def do_heartbeat(
    ti_id: uuid.UUID | str, try_number: int, *, hostname: str = "", pid: int | None = None
) -> None:
    """Record that the try is alive. Raises InvalidTaskState when it is no longer running
    (cleared, marked, failed as a zombie): the runner must then kill the task.

    hostname/pid are accepted as the contract sends them but not compared with the claim's:
    the token already binds the call to this try, and a second runner of the same try cannot
    have claimed it."""
    # One conditional UPDATE: a clear or zombie-kill committed before it leaves 0 rows, and
    # one committing after it overwrites the heartbeat with its own state, so a heartbeat can
    # never resurrect a try.
    beats = TaskInstance.objects.filter(
        pk=ti_id, try_number=try_number, state=State.RUNNING
    ).update(last_heartbeat_at=timezone.now())
    if beats == 1:
        return
    ti = _current(ti_id, try_number)
    raise InvalidTaskState(ti.state, State.RUNNING)


def do_append_log(ti: TaskInstance, lines: Iterable[str]) -> int:
    """Append lines to the log file of `ti`'s try; returns bytes written. Refused unless
    running. `ti` is the row the caller has already loaded for this try (the Execution API's
    auth reads it, checking the token's try number), so no second read on this hot path."""
    if ti.state != State.RUNNING:
        raise InvalidTaskState(ti.state, State.RUNNING)
    # No lock: a chunk racing the try's finish can only land in this try's own file.
    written = logs.append_lines(logs.ti_log_path(ti), lines)
    events.publish(
        {
            "kind": "log",
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "try_number": ti.try_number,
        }
    )
    return written


def do_finish_try(
    ti_id: uuid.UUID | str,
    try_number: int,
    *,
    state: str,
    end_date: datetime | None = None,
    fail_without_retry: bool = False,
    retry_delay_seconds: float | None = None,
    cpu_time: float | None = None,
    peak_memory: int | None = None,
    rendered_fields: dict[str, Any] | None = None,
    branch_task_ids: Iterable[str] | None = None,
    skip_downstream: str | None = None,
    downstream_tasks_skipped: Iterable[str | tuple[str, int]] | None = None,
    rendered_map_index: str | None = None,
    actor: Actor = RUNNER_ACTOR,
    reason: str = "",
) -> TaskInstance:
    """End a running try: running → success / skipped / failed / up_for_retry.

    A failed try becomes up_for_retry (with next_retry_at) while try_number <= max_tries and
    not `fail_without_retry`. On success, `branch_task_ids` skips the other direct downstream
    tasks, and `skip_downstream` ("all" or "direct") skips downstream tasks for a falsy
    short-circuit. `downstream_tasks_skipped` (SkipMixin's DownstreamTasksSkipped: ids or
    (task_id, map_index) pairs) skips those instances; each must be downstream of the task
    (SkipRefused otherwise, nothing changed). The try is copied into TaskInstanceHistory and the schedulers are woken
    after commit. Raises InvalidTaskState unless running.
    """
    if state not in FINISH_STATES:
        raise ValueError(f"a try cannot finish as {state!r}")
    if skip_downstream is not None and skip_downstream not in SKIP_DOWNSTREAM_MODES:
        raise ValueError(
            f"skip_downstream must be 'all', 'direct' or None, not {skip_downstream!r}"
        )
    now = timezone.now()
    end_date = end_date or now
    with transaction.atomic():
        ti = _locked(ti_id, try_number)
        if ti.state != State.RUNNING:
            raise InvalidTaskState(ti.state, State.RUNNING)
        serialized = serialized_dag_of(ti)
        task = find_task(serialized, ti.task_id)
        requested_skips: tuple[set[str], set[tuple[str, int]]] = (set(), set())
        if state == State.SUCCESS and downstream_tasks_skipped:
            requested_skips = check_downstream_skips(
                ti.task_id,
                downstream_tasks_skipped,
                downstream_ids(serialized, ti.task_id, transitive=True),
            )
        final, next_retry_at = state, None
        if state == State.FAILED:
            final, next_retry_at = failure_outcome(
                ti, task, end_date, fail_without_retry, retry_delay_seconds
            )
        ti.check_transition(final)
        fields: dict[str, Any] = {
            "state": final,
            "end_date": end_date,
            "duration": (end_date - ti.start_date).total_seconds() if ti.start_date else None,
            "next_retry_at": next_retry_at,
            "updated_at": now,
        }
        fields |= _reported(
            cpu_time=cpu_time,
            peak_memory=peak_memory,
            rendered_fields=rendered_fields,
            rendered_map_index=rendered_map_index,
        )
        # The lock excludes a clear landing between the read and this write; the condition
        # keeps it so on SQLite and guarantees one finish per try (a replayed or duplicated
        # finish finds the row no longer running).
        _move(ti, State.RUNNING, fields)
        record_try_history(ti)
        # email_on_failure / email_on_retry, sent after commit (dagruns/actions/task_email.py).
        email_on_commit(ti, final, task)
        if final == State.FAILED:
            stop_remaining_tasks(ti, serialized, now)  # the DAG's fail_fast

        skipped: set[str] = set()
        if final == State.SUCCESS and branch_task_ids is not None:
            chosen = set(branch_task_ids)
            skipped |= downstream_ids(serialized, ti.task_id) - chosen
        if final == State.SUCCESS and skip_downstream is not None:
            skipped |= downstream_ids(serialized, ti.task_id, transitive=skip_downstream == "all")
        if final == State.SUCCESS:
            skipped |= requested_skips[0]
        if skipped:
            skip_task_instances(ti.dag_run, skipped, when=now)
        skipped_instances = sorted(requested_skips[1]) if final == State.SUCCESS else []
        if skipped_instances:
            skip_map_indexes(ti.dag_run, skipped_instances, when=now)

        extra: dict[str, Any] = {"duration": fields["duration"]}
        if reason:
            extra["reason"] = reason
        if skipped:
            extra["skipped"] = sorted(skipped)
        if skipped_instances:
            extra["skipped_map_indexes"] = [list(pair) for pair in skipped_instances]
        _record_try(actor, final, ti, extra)
        _wake_after_commit()
        # Skips touch other task instances of the run: tell pages the whole run changed.
        events.notify(
            "run" if skipped or skipped_instances else "ti",
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            try_number=ti.try_number,
        )
    return ti


def _reported(**values: Any) -> dict[str, Any]:
    """The measurements and renderings a runner reported with a try's end: only those it sent
    (None means "not measured", which must not overwrite what an earlier report stored)."""
    return {name: value for name, value in values.items() if value is not None}


def do_reschedule_try(
    ti_id: uuid.UUID | str,
    try_number: int,
    *,
    reschedule_date: datetime,
    end_date: datetime | None = None,
    cpu_time: float | None = None,
    peak_memory: int | None = None,
    rendered_fields: dict[str, Any] | None = None,
    actor: Actor = RUNNER_ACTOR,
) -> TaskInstance:
    """A reschedule-mode sensor gives back its slot: running → up_for_reschedule, with a
    TaskReschedule row for this run of the try. The try number stays (Airflow's rule): the
    scheduler schedules the same try again once `reschedule_date` has passed, which is kept
    in `next_retry_at`, the column the scheduler reads for "not before". No history row: the
    try has not finished. Raises InvalidTaskState unless running."""
    now = timezone.now()
    end_date = end_date or now
    with transaction.atomic():
        ti = _locked(ti_id, try_number)
        if ti.state != State.RUNNING:
            raise InvalidTaskState(ti.state, State.RUNNING)
        ti.check_transition(State.UP_FOR_RESCHEDULE)
        start_date = ti.start_date or end_date
        duration = (end_date - start_date).total_seconds()
        fields: dict[str, Any] = {
            "state": State.UP_FOR_RESCHEDULE,
            "end_date": end_date,
            "duration": duration,
            "next_retry_at": reschedule_date,
            "updated_at": now,
        }
        fields |= _reported(
            cpu_time=cpu_time, peak_memory=peak_memory, rendered_fields=rendered_fields
        )
        _move(ti, State.RUNNING, fields)
        TaskReschedule.objects.create(
            task_instance=ti,
            try_number=ti.try_number,
            start_date=start_date,
            end_date=end_date,
            duration=duration,
            reschedule_date=reschedule_date,
        )
        _record_try(
            actor, State.UP_FOR_RESCHEDULE, ti, {"reschedule_date": reschedule_date.isoformat()}
        )
        _wake_after_commit()
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
    return ti


def reschedule_count(ti: TaskInstance) -> int:
    """How many times the current try was rescheduled (the context's
    task_reschedule_count)."""
    return TaskReschedule.objects.filter(task_instance=ti, try_number=ti.try_number).count()


def first_reschedule_start(ti_id: uuid.UUID, first_try_number: int) -> datetime | None:
    """When the first reschedule since try `first_try_number` started: where a
    reschedule-mode sensor's timeout counts from (None: never rescheduled)."""
    return (
        TaskReschedule.objects.filter(task_instance_id=ti_id, try_number__gte=first_try_number)
        .order_by("id")
        .values_list("start_date", flat=True)
        .first()
    )


def skip_task_instances(dag_run: DagRun, task_ids: Iterable[str], *, when: datetime) -> int:
    """Mark the not-yet-started task instances of `task_ids` in the run skipped (every map
    index). Returns how many changed."""
    # Skipping only rows that are still waiting, in the UPDATE's own WHERE, means a task that
    # started in the meantime (another upstream let it run) keeps running.
    waiting = TaskInstance.objects.filter(dag_run=dag_run, task_id__in=list(task_ids)).filter(
        Q(state__isnull=True) | Q(state__in=SKIPPABLE_STATES)
    )
    return waiting.update(
        state=State.SKIPPED, start_date=when, end_date=when, duration=0.0, updated_at=when
    )


def skip_map_indexes(
    dag_run: DagRun, instances: Iterable[tuple[str, int]], *, when: datetime
) -> int:
    """Mark the not-yet-started instances `(task_id, map_index)` of the run skipped (a
    SkipMixin in a mapped task group skipping its own map index downstream). Returns how many
    changed."""
    selected = Q()
    pairs = list(instances)
    if not pairs:  # an empty Q() would select every row
        return 0
    for task_id, map_index in pairs:
        selected |= Q(task_id=task_id, map_index=map_index)
    waiting = TaskInstance.objects.filter(selected, dag_run=dag_run).filter(
        Q(state__isnull=True) | Q(state__in=SKIPPABLE_STATES)
    )
    return waiting.update(
        state=State.SKIPPED, start_date=when, end_date=when, duration=0.0, updated_at=when
    )


def expanded_ti_count(ti: TaskInstance) -> int | None:
    """How many instances `ti`'s task expanded into in its run (None: not map-indexed)."""
    if ti.map_index < 0:
        return None
    return TaskInstance.objects.filter(
        dag_run_id=ti.dag_run_id, task_id=ti.task_id, map_index__gte=0
    ).count()
