"""Clearing and marking task instances, setting a run's state and deleting runs (Airflow's
clear / mark / PATCH dagRun / delete), and the selection they apply to.

`select_task_instances` is the one selection every surface uses (tasks, relatives, past and
future runs, failed/running only). Each `do_*` takes `dry_run`: it then returns exactly what
would change and changes nothing, so the UI's confirmation, the REST API's dry runs and the
CLI's `--dry-run` all show what the action itself would do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.deferral import DEFERRAL_RESET, delete_unused_triggers
from dagruns.actions.errors import ActionRefused
from dagruns.actions.external_markers import MarkerError, with_dependent_dags
from dagruns.actions.notes import check_note, write_run_note, write_ti_notes
from dagruns.actions.tries import record_try_history
from dagruns.domain.dag_graph import DagGraph, graph_for_version
from dagruns.models import DagRun, DagRunState, TaskInstance, TaskInstanceHistory, XCom
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED, TI_OCCUPYING_SLOT, TaskInstanceState
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

TIS = TaskInstanceState
# What a person may set by hand: Airflow's PATCH taskInstance new_state and PATCH dagRun state.
MARKABLE_STATES = (TIS.SUCCESS, TIS.FAILED, TIS.SKIPPED)
RUN_SETTABLE_STATES = (DagRunState.QUEUED, DagRunState.SUCCESS, DagRunState.FAILED)


class RunNotFound(LookupError):
    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"DAG run {run_id!r} of DAG {dag_id!r} not found")


class InvalidSelection(ActionRefused):
    """The task instances asked for cannot be selected; the message names the problem."""


class InvalidTaskPattern(InvalidSelection):
    pass


class UnknownTasks(InvalidSelection):
    """Task ids that no selected run (nor the DAG's latest version) has."""

    def __init__(self, dag_id: str, task_ids: Iterable[str]) -> None:
        names = ", ".join(repr(t) for t in sorted(task_ids))
        super().__init__(f"DAG {dag_id!r} has no task {names}")
        self.task_ids = sorted(task_ids)


def get_run_or_raise(dag_id: str, run_id: str) -> DagRun:
    try:
        return DagRun.objects.get(dag_id=dag_id, run_id=run_id)
    except DagRun.DoesNotExist:
        raise RunNotFound(dag_id, run_id) from None


def _past_future_bounds(
    dag_id: str, run_id: str, include_past: bool, include_future: bool
) -> tuple[datetime | None, datetime | None]:
    """Airflow's include_past/include_future: the runs at or before/after this run's logical
    date instead of this run alone."""
    run = get_run_or_raise(dag_id, run_id)
    if run.logical_date is None:
        raise InvalidSelection(
            "Cannot use include_past or include_future with no logical_date "
            "(e.g. manually or asset-triggered)."
        )
    return (
        None if include_past else run.logical_date,
        None if include_future else run.logical_date,
    )


def _widened(
    graph: DagGraph, roots: list[str], upstream: bool, downstream: bool, direct_only: bool
) -> set[str]:
    selected = set(roots)
    if direct_only:
        # The UI's "not recursive": only the tasks one edge away.
        for task_id in roots:
            spec = graph.tasks[task_id]
            if upstream:
                selected.update(spec.upstream)
            if downstream:
                selected.update(spec.downstream)
    else:
        if upstream:
            selected |= graph.upstream_closure(roots)
        if downstream:
            selected |= graph.downstream_closure(roots)
    # Airflow: clearing a task re-runs the setups it needs and their teardowns with it.
    if any(spec.is_setup for spec in graph.tasks.values()):
        for task_id in roots:
            selected |= graph.setups_and_teardowns_to_clear(task_id)
    return selected


def select_task_instances(
    dag_id: str,
    *,
    run_ids: Iterable[str] | None = None,
    task_ids: Iterable[str] | None = None,
    task_regex: str | None = None,
    map_indexes: dict[str, set[int]] | None = None,
    include_upstream: bool = False,
    include_downstream: bool = False,
    direct_relatives_only: bool = False,
    include_past: bool = False,
    include_future: bool = False,
    only_failed: bool = False,
    only_running: bool = False,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    include_dependent_dags: bool = False,
) -> list[TaskInstance]:
    """The task instances an action applies to, for every surface alike: the named/matching
    tasks in the given runs (all runs if none), widened to their upstream and/or downstream
    tasks in each run's own DAG version (all the way, or one edge with
    `direct_relatives_only`), optionally narrowed to failed or running ones.

    `include_past`/`include_future` (one run in `run_ids`) take the same tasks in the runs at
    or before/after that run's logical date. `map_indexes` narrows the named tasks to those map
    indexes (their relatives keep every index). Naming a task no run has is an error.

    `include_dependent_dags` (Airflow's): ExternalTaskMarkers among them add the tasks they
    mark in other DAGs, with their downstream (dagruns/actions/external_markers.py)."""
    get_dag_or_raise(dag_id)
    pattern = None
    if task_regex:
        try:
            pattern = re.compile(task_regex)
        except re.error as exc:
            raise InvalidTaskPattern(f"task regex {task_regex!r} is invalid: {exc}") from None
    if include_past or include_future:
        if run_ids is None or len(list(run_ids)) != 1:
            raise InvalidSelection("include_past and include_future need exactly one DAG run")
        start_date, end_date = _past_future_bounds(
            dag_id, next(iter(run_ids)), include_past, include_future
        )
        run_ids = None
    runs = DagRun.objects.filter(dag_id=dag_id)
    if run_ids is not None:
        runs = runs.filter(run_id__in=list(run_ids))
    if start_date:
        runs = runs.filter(logical_date__gte=start_date)
    if end_date:
        runs = runs.filter(logical_date__lte=end_date)
    wanted_ids = set(task_ids) if task_ids is not None else None
    known: set[str] = set()
    chosen: list[TaskInstance] = []
    for run in runs.only("pk", "dag_version_id"):
        graph = graph_for_version(run.dag_version_id)
        known.update(graph.tasks)
        roots = [
            t
            for t in graph.order
            if (wanted_ids is None or t in wanted_ids) and (pattern is None or pattern.search(t))
        ]
        selected = _widened(
            graph, roots, include_upstream, include_downstream, direct_relatives_only
        )
        tis = TaskInstance.objects.filter(dag_run_id=run.pk, task_id__in=selected)
        if only_failed:
            tis = tis.filter(state__in=TI_FAILED_LIKE)
        if only_running:
            tis = tis.filter(state=TIS.RUNNING)
        chosen.extend(tis.order_by("task_id", "map_index"))
    if wanted_ids:
        _check_known(dag_id, wanted_ids, known)
    if map_indexes:
        chosen = [
            ti
            for ti in chosen
            if ti.task_id not in map_indexes or ti.map_index in map_indexes[ti.task_id]
        ]
    if include_dependent_dags:
        try:
            chosen = with_dependent_dags(chosen, only_failed=only_failed, only_running=only_running)
        except MarkerError as exc:
            raise InvalidSelection(str(exc)) from None
    return chosen


def _check_known(dag_id: str, wanted: set[str], known: set[str]) -> None:
    unknown = wanted - known
    if unknown:
        # A task of the DAG that only the selected runs lack (added later) is not an error.
        dag = get_dag_or_raise(dag_id)
        latest = dag.latest_version()
        if latest is not None:
            unknown -= {t["task_id"] for t in latest.serialized.get("tasks", ())}
    if unknown:
        raise UnknownTasks(dag_id, unknown)


def record_history(ti: TaskInstance, state: str | None = None, end: datetime | None = None) -> None:
    """Keep this try's record before the live row moves on (a try never started has none)."""
    if ti.try_number == 0:
        return
    if state is not None:
        ti.state = state
    if end is not None:
        ti.end_date = end
    record_try_history(ti)


def do_clear(
    tis: list[TaskInstance],
    actor: Actor,
    *,
    dry_run: bool = False,
    reset_dag_runs: bool = True,
    note: str | None = None,
) -> list[TaskInstance]:
    """Send task instances back to `none` so the scheduler runs them again with a new try
    (Airflow's clear): history is kept, running tries are stopped, the retries budget starts
    afresh (max_tries = try_number + retries), and their runs go back to running. A `note`
    is written on them in the same transaction. With `dry_run`, returns the task instances
    that would be cleared and changes nothing."""
    if note is not None:
        note = check_note(note)
    if dry_run or not tis:
        return tis
    now = timezone.now()
    with transaction.atomic():
        for ti in tis:
            ti.check_transition(None, manual=True)
            graph = graph_for_version(ti.dag_version_id) if ti.dag_version_id else None
            retries = graph.tasks[ti.task_id].retries if graph and ti.task_id in graph.tasks else 0
            if ti.state in TI_OCCUPYING_SLOT:
                # The running try is killed by its runner's next heartbeat (409) or at once by
                # the scheduler that runs it; its record says it ended here.
                record_history(ti, state=TIS.FAILED, end=now)
            elif ti.state in TI_FINISHED or ti.state in (TIS.UP_FOR_RETRY, TIS.UP_FOR_RESCHEDULE):
                # A sensor waiting for its reschedule date ends its try here, as it stands.
                record_history(ti)
            TaskInstance.objects.filter(pk=ti.pk).update(
                state=None,
                max_tries=ti.try_number + retries,
                start_date=None,
                end_date=None,
                duration=None,
                queued_dttm=None,
                scheduled_dttm=None,
                next_retry_at=None,
                hostname="",
                pid=None,
                last_heartbeat_at=None,
                cpu_time=None,
                peak_memory=None,
                **DEFERRAL_RESET,
            )
        delete_unused_triggers()  # a cleared deferred task's trigger stops in its triggerer
        run_pks = {ti.dag_run_id for ti in tis}
        if reset_dag_runs:
            _reopen_runs(run_pks, now)
        _record_many(actor, "clear", tis)
        if note is not None:
            write_ti_notes(tis, note, actor)
        transaction.on_commit(wake_schedulers)
        _notify_runs(tis)
    return tis


def do_clear_run(
    dag_id: str,
    run_id: str,
    actor: Actor,
    *,
    only_failed: bool = False,
    dry_run: bool = False,
    note: str | None = None,
) -> list[TaskInstance]:
    """Clear a whole run's task instances (all, or only failed ones; Airflow's clear of a DAG
    run) and write the run's `note`, in one transaction. Returns the task instances cleared
    (with `dry_run`: that would be)."""
    run = get_run_or_raise(dag_id, run_id)
    if note is not None:
        note = check_note(note)
    tis = select_task_instances(dag_id, run_ids=[run_id], only_failed=only_failed)
    if dry_run:
        return do_clear(tis, actor, dry_run=True)
    with transaction.atomic():
        do_clear(tis, actor)
        if note is not None:
            write_run_note(run, note, actor)
    return tis


def _reopen_runs(run_pks: set[int], now: datetime) -> None:
    # A reopened run starts again now (Airflow resets a cleared run's start_date), so its
    # duration counts from its latest start, not from the first one.
    DagRun.objects.filter(pk__in=run_pks).exclude(state=DagRunState.RUNNING).update(
        state=DagRunState.RUNNING,
        start_date=now,
        end_date=None,
        clear_number=F("clear_number") + 1,
    )


def _record_many(actor: Actor, event: str, tis: list[TaskInstance]) -> None:
    first = tis[0]
    record(
        actor,
        event,
        dag_id=first.dag_id,
        run_id=first.run_id if len({t.run_id for t in tis}) == 1 else "",
        extra={"task_instances": [f"{t.run_id}/{t.task_id}" for t in tis][:200]},
    )


def _check_settable(state: str | None, allowed: tuple[str, ...], what: str) -> str:
    if state not in allowed:
        raise InvalidSelection(
            f"'{state}' is not a state {what} can be set to: use one of {', '.join(allowed)}"
        )
    return state


def check_mark_state(state: str | None) -> str:
    """The states a person may mark task instances with (Airflow's PATCH new_state)."""
    return _check_settable(state, MARKABLE_STATES, "a task instance")


def do_mark_state(
    tis: list[TaskInstance],
    state: str,
    actor: Actor,
    *,
    dry_run: bool = False,
    note: str | None = None,
    note_on: list[TaskInstance] | None = None,
) -> list[TaskInstance]:
    """Set task instances to success, failed or skipped by hand (Airflow's mark). Running
    tries are stopped; finished runs are re-evaluated by the scheduler. A `note` is written
    on `note_on` (default: the task instances marked) in the same transaction. Returns the
    task instances whose state changes (with `dry_run`: would change)."""
    state = check_mark_state(state)
    if note is not None:
        note = check_note(note)
    changing = [ti for ti in tis if ti.state != state]
    for ti in changing:
        ti.check_transition(state, manual=True)
    if dry_run or (not changing and note is None):
        return changing
    now = timezone.now()
    with transaction.atomic():
        if changing:
            for ti in changing:
                if ti.state in TI_OCCUPYING_SLOT:
                    record_history(ti, state=state, end=now)
            TaskInstance.objects.filter(pk__in=[ti.pk for ti in changing]).update(
                state=state, end_date=now, next_retry_at=None, **DEFERRAL_RESET
            )
            delete_unused_triggers()
            _reopen_runs({ti.dag_run_id for ti in changing}, now)
            _record_many(actor, f"mark_{state}", changing)
            transaction.on_commit(wake_schedulers)
            _notify_runs(changing)
        if note is not None:
            write_ti_notes(note_on if note_on is not None else changing, note, actor)
    return changing


@dataclass(frozen=True)
class RunDeletion:
    """What deleting a run removes (the preview the UI confirms)."""

    run: DagRun
    task_instances: list[TaskInstance]
    tries: int
    xcoms: int


def do_delete_run(dag_id: str, run_id: str, actor: Actor, *, dry_run: bool = False) -> RunDeletion:
    """Delete a run with its task instances, history and XComs; running tries are stopped."""
    run = get_run_or_raise(dag_id, run_id)
    deletion = RunDeletion(
        run=run,
        task_instances=list(TaskInstance.objects.filter(dag_run=run).order_by("task_id")),
        tries=TaskInstanceHistory.objects.filter(dag_id=dag_id, run_id=run_id).count(),
        xcoms=XCom.objects.filter(dag_run=run).count(),
    )
    if dry_run:
        return deletion
    with transaction.atomic():
        run.delete()
        record(actor, "delete_dag_run", dag_id=dag_id, run_id=run_id)
        transaction.on_commit(wake_schedulers)
        events.notify("run", dag_id=dag_id, run_id=run_id)
    return deletion


@dataclass(frozen=True)
class RunStateChange:
    """A run's new state and what it does to the run's unfinished task instances."""

    run: DagRun
    state: str
    task_instances: list[tuple[TaskInstance, str]]


def check_run_state(state: str | None) -> str:
    """The states a person may set a run to (Airflow's PATCH dagRun state)."""
    return _check_settable(state, RUN_SETTABLE_STATES, "a DAG run")


def run_state_change(run: DagRun, state: str) -> RunStateChange:
    """Marking a run success or failed settles its unfinished task instances: success makes
    them success; failed fails the ones holding a slot and skips the ones never started (as
    Airflow). Queued leaves them alone."""
    if state == DagRunState.QUEUED:
        return RunStateChange(run, state, [])
    unfinished = TaskInstance.objects.filter(dag_run=run).exclude(state__in=TI_FINISHED)
    changes: list[tuple[TaskInstance, str]] = []
    for ti in unfinished.order_by("task_id", "map_index"):
        if state == DagRunState.SUCCESS:
            target = TIS.SUCCESS
        else:
            target = TIS.FAILED if ti.state in TI_OCCUPYING_SLOT else TIS.SKIPPED
        changes.append((ti, target))
    return RunStateChange(run, state, changes)


def do_set_run_state(
    dag_id: str,
    run_id: str,
    state: str | None,
    actor: Actor,
    *,
    dry_run: bool = False,
    note: str | None = None,
) -> RunStateChange:
    """Set a whole run's state and/or its note (Airflow's PATCH dagRun), both in one
    transaction; `state=None` changes only the note. With `dry_run`, returns what would
    change and changes nothing."""
    if state is not None:
        state = check_run_state(state)
    if note is not None:
        note = check_note(note)
    run = get_run_or_raise(dag_id, run_id)
    change = run_state_change(run, state) if state is not None else RunStateChange(run, "", [])
    if state is not None:
        run.check_transition(state, manual=True)
    if dry_run:
        return change
    now = timezone.now()
    with transaction.atomic():
        if state is not None:
            _apply_run_state(run, change, now, actor)
        if note is not None:
            write_run_note(run, note, actor)
    run.refresh_from_db()
    return RunStateChange(run, change.state, change.task_instances)


def _apply_run_state(run: DagRun, change: RunStateChange, now: datetime, actor: Actor) -> None:
    if change.state == DagRunState.QUEUED:
        DagRun.objects.filter(pk=run.pk).update(state=change.state, end_date=None, start_date=None)
    else:
        for ti, target in change.task_instances:
            if ti.state in TI_OCCUPYING_SLOT:
                record_history(ti, state=target, end=now)
        for target in {t for _, t in change.task_instances}:
            pks = [ti.pk for ti, t in change.task_instances if t == target]
            # The state in the WHERE: a task that finished since the preview keeps its state.
            TaskInstance.objects.filter(pk__in=pks).exclude(state__in=TI_FINISHED).update(
                state=target, end_date=now
            )
        DagRun.objects.filter(pk=run.pk).update(state=change.state, end_date=now)
    record(actor, f"set_run_state_{change.state}", dag_id=run.dag_id, run_id=run.run_id)
    transaction.on_commit(wake_schedulers)
    events.notify("run", dag_id=run.dag_id, run_id=run.run_id)


def _notify_runs(tis: list[TaskInstance]) -> None:
    for dag_id, run_id in {(ti.dag_id, ti.run_id) for ti in tis}:
        events.notify("run", dag_id=dag_id, run_id=run_id)
