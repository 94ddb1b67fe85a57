"""Step 2 of a scheduler tick: move queued runs to running, then decide, for each running run,
which task instances are ready (→ scheduled), which can never run (→ skipped/upstream_failed),
and whether the run is finished."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet

from dagruns.actions.dag_callbacks import on_run_finished
from dagruns.actions.start_from_trigger import do_start_from_trigger
from dagruns.domain.dag_graph import DagGraph, TaskSpec, graph_for_version
from dagruns.domain.past_runs import past_depends_unmet
from dagruns.domain.trigger_rules import Decision, UpstreamCounts, evaluate
from dagruns.models import DagModel, DagRun, DagRunState, TaskInstance, TaskInstanceState
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED
from dagruns.notify import events
from scheduler.scheduling import expansion
from scheduler.scheduling.expansion import Expansion, map_length

TIS = TaskInstanceState
# Waiting for their next_retry_at: a retry's time, or a reschedule-mode sensor's date.
WAITING_FOR_TIME = frozenset({TIS.UP_FOR_RETRY, TIS.UP_FOR_RESCHEDULE})


def start_queued_runs(now: datetime, dag_ids: list[str] | None = None) -> int:
    """Queued runs of unpaused DAGs start, oldest first, while the DAG is under
    max_active_runs (Airflow 3 creates runs queued and starts them here)."""
    # A backfill's runs are started by its own limit (scheduler/scheduling/backfills.py).
    queued = DagRun.objects.filter(state=DagRunState.QUEUED, backfill__isnull=True)
    queued = (
        queued.filter(dag_id__in=dag_ids)
        if dag_ids is not None
        else queued.filter(dag__is_paused=False)
    )
    waiting_dags = sorted(set(queued.values_list("dag_id", flat=True)))
    return sum(_start_runs_of(dag_id, now) for dag_id in waiting_dags)


def _start_runs_of(dag_id: str, now: datetime) -> int:
    """Start this DAG's oldest queued runs up to its max_active_runs, as one step.

    The race this closes: counting the running runs and then starting some were separate
    statements, so two schedulers could both count 2 running under a limit of 3 and both start
    one (4 running; 5 with a limit of 4). Every scheduler now locks the DAG's row first, so the
    count and the starts of one DAG happen one scheduler at a time, and the count (a fresh
    statement under READ COMMITTED, after the lock) sees what the previous holder committed.
    A scheduler that finds the row locked skips the DAG: the holder is starting its runs.
    On SQLite the IMMEDIATE transaction already holds the database's write lock."""
    with transaction.atomic():
        limit = (
            DagModel.objects.select_for_update(skip_locked=True)
            .filter(pk=dag_id)
            .values_list("max_active_runs", flat=True)
            .first()
        )
        if limit is None:
            return 0  # locked by another scheduler (or the DAG is gone)
        # Runs of backfills count against their backfill's max_active_runs, not the DAG's.
        running = DagRun.objects.filter(
            dag_id=dag_id, state=DagRunState.RUNNING, backfill__isnull=True
        ).count()
        if running >= limit:
            return 0
        oldest = (
            DagRun.objects.filter(dag_id=dag_id, state=DagRunState.QUEUED, backfill__isnull=True)
            .order_by("run_after", "pk")
            .values_list("pk", "run_id")[: limit - running]
        )
        started = []
        for pk, run_id in oldest:
            if DagRun.objects.filter(pk=pk, state=DagRunState.QUEUED).update(
                state=DagRunState.RUNNING, start_date=now
            ):
                started.append(run_id)
    for run_id in started:
        events.notify("run", dag_id=dag_id, run_id=run_id)
    return len(started)


# A task instance of a run: (task_id, map_index).
TiKey = tuple[str, int]
# The states of a run's task instances: task_id -> {map_index: state}.
RunStates = dict[str, dict[int, str | None]]
# Given a mapped task's id, its expansion (scheduler/scheduling/expansion.py), None while
# it cannot be known yet.
LengthOf = Callable[[str], Expansion | None]


@dataclass
class RunDecisions:
    """What examining one run decided, applied in one transaction (expansions each in its
    own, before it)."""

    to_schedule: list[TiKey] = field(default_factory=list)
    retry_now: list[TiKey] = field(default_factory=list)
    # up_for_reschedule sensors whose reschedule date has passed: scheduled, same try.
    reschedule_now: list[TiKey] = field(default_factory=list)
    run_themselves: list[TiKey] = field(default_factory=list)
    # start_from_trigger tasks: deferred by the scheduler instead of scheduled (first try or a
    # due retry).
    start_in_triggerer: list[TiKey] = field(default_factory=list)
    settle: dict[str, list[TiKey]] = field(default_factory=lambda: defaultdict(list))
    expand: dict[str, int] = field(default_factory=dict)
    # Expanded tasks whose length changed since (a cleared upstream pushed another list).
    revise: dict[str, int] = field(default_factory=dict)
    fail_expansion: dict[str, str] = field(default_factory=dict)
    run_state: str | None = None

    @property
    def changes(self) -> int:
        settled = sum(len(v) for v in self.settle.values())
        return (
            len(self.to_schedule)
            + len(self.retry_now)
            + len(self.reschedule_now)
            + len(self.run_themselves)
            + len(self.start_in_triggerer)
            + settled
            + len(self.expand)
            + len(self.revise)
            + len(self.fail_expansion)
        )


def examine_running_runs(now: datetime, dag_ids: list[str] | None = None) -> int:
    runs = DagRun.objects.filter(state=DagRunState.RUNNING)
    runs = (
        runs.filter(dag_id__in=dag_ids)
        if dag_ids is not None
        else runs.filter(dag__is_paused=False)
    )
    changes = 0
    for run in runs.only("pk", "dag_id", "run_id", "dag_version_id", "start_date", "run_after"):
        changes += examine_run(run, now)
    return changes


def examine_run(run: DagRun, now: datetime) -> int:
    graph = graph_for_version(run.dag_version_id)
    changes = 0
    # Settling a task (skipped/upstream_failed, or an EmptyOperator's success) can settle its
    # downstream in the same tick, and an expansion makes instances to decide about:
    # iterate to a fixed point rather than waiting a tick per level.
    for _ in range(2 * len(graph.order) + 2):
        rows = TaskInstance.objects.filter(dag_run_id=run.pk).values_list(
            "task_id", "map_index", "state", "next_retry_at"
        )
        states: RunStates = defaultdict(dict)
        retry_due: set[TiKey] = set()
        for task_id, map_index, state, at in rows:
            states[task_id][map_index] = state
            # next_retry_at: a retry's time, or the date a reschedule-mode sensor asked for.
            if state in WAITING_FOR_TIME and (at is None or at <= now):
                retry_due.add((task_id, map_index))

        def length_of(task_id: str, states: RunStates = states) -> Expansion | None:
            return map_length(graph, task_id, run.pk, states)

        decisions = decide(graph, states, run, now, retry_due, length_of)
        if decisions.changes == 0 and decisions.run_state is None:
            break
        applied = apply(run, decisions, now)
        changes += applied
        if decisions.run_state is not None or applied == 0:
            break
        if not (
            decisions.settle
            or decisions.run_themselves
            or decisions.expand
            or decisions.revise
            or decisions.fail_expansion
        ):
            # Only settled tasks, EmptyOperator successes and expansions can unlock more
            # decisions in this tick; scheduled ones change nothing until they run.
            break
    return changes


def _no_length(task_id: str) -> Expansion | None:
    return None


def decide(
    graph: DagGraph,
    states: RunStates,
    run: DagRun,
    now: datetime,
    retry_due: set[TiKey] = frozenset(),  # type: ignore[assignment]
    length_of: LengthOf = _no_length,
) -> RunDecisions:
    d = RunDecisions()
    summary = summarize(states)
    if (
        graph.dagrun_timeout
        and run.start_date
        and now - run.start_date > timedelta(seconds=graph.dagrun_timeout)
    ):
        # Airflow: a timed-out run fails; its unfinished tasks are skipped (running ones are
        # then told to stop by their next heartbeat).
        d.settle[TIS.SKIPPED] = [
            (t, i) for t, rows in states.items() for i, s in rows.items() if s not in TI_FINISHED
        ]
        d.run_state = DagRunState.FAILED
        return d
    for task_id in graph.order:
        instances = states.get(task_id)
        if not instances:
            continue
        spec = graph.tasks[task_id]
        # Instances that count all their upstream instances share one decision: computed once
        # (a 1,000-instance task downstream of another would otherwise count a million).
        shared: list[Decision] = []
        length_checked = False
        for map_index, state in instances.items():
            key = (task_id, map_index)
            if state == TIS.UP_FOR_RETRY:
                if key in retry_due:
                    (d.start_in_triggerer if spec.starts_from_trigger else d.retry_now).append(key)
                continue
            if state == TIS.UP_FOR_RESCHEDULE:
                if key in retry_due:
                    d.reschedule_now.append(key)
                continue
            if state is not None:
                continue
            if spec.is_mapped and map_index == -1:
                # Not expanded yet: expand as soon as the length is known (before the trigger
                # rule, as Airflow does: the instances then wait for it each on their own).
                expansion = length_of(task_id)
                if expansion is not None:
                    if expansion.error is not None:
                        d.fail_expansion[task_id] = expansion.error
                    else:
                        d.expand[task_id] = expansion.length or 0
                    continue
            per_index = map_index >= 0 and spec.mapped_group is not None
            if per_index or not shared:
                counts = UpstreamCounts.of(
                    (up_state, graph.tasks[up].is_setup)
                    for up in spec.upstream
                    for up_state in _relevant_upstream_states(graph, spec, up, map_index, states)
                )
                decision = evaluate(spec.trigger_rule, counts)
                if not per_index:
                    shared.append(decision)
            else:
                decision = shared[0]
            if decision.new_state:
                d.settle[decision.new_state].append(key)
            elif decision.ready:
                if spec.is_mapped and map_index == -1:
                    # Ready, yet what it maps over is missing (an upstream it maps over did
                    # not succeed, e.g. under trigger rule all_done): nothing to run; skipped
                    # when that upstream was skipped, else upstream_failed.
                    d.settle[_unexpandable_state(graph, task_id, states)].append(key)
                    continue
                if spec.is_mapped and not length_checked:
                    # About to run expanded instances: the length they were made for must
                    # still be the length (Airflow revises it, e.g. after a clear).
                    length_checked = True
                    revised = _revised_length(task_id, instances, length_of)
                    if revised is not None:
                        d.revise[task_id] = revised
                if task_id in d.revise:
                    continue
                if spec.depends_on_past and not _past_succeeded(run, task_id):
                    continue
                if spec.runs_itself:
                    d.run_themselves.append(key)
                elif spec.starts_from_trigger:
                    d.start_in_triggerer.append(key)
                else:
                    d.to_schedule.append(key)
    if d.changes == 0:
        d.run_state = _run_outcome(graph, summary)
        if d.run_state is None and _deadlocked(graph, summary):
            d.run_state = DagRunState.FAILED
    return d


def _revised_length(
    task_id: str, instances: dict[int, str | None], length_of: LengthOf
) -> int | None:
    """The new length of an expanded task whose expansion no longer matches its instances."""
    expansion = length_of(task_id)
    if expansion is None or expansion.length is None:
        return None
    live = {i for i, s in instances.items() if i >= 0 and s != TIS.REMOVED}
    return None if live == set(range(expansion.length)) else expansion.length


def _unexpandable_state(graph: DagGraph, task_id: str, states: RunStates) -> str:
    expand_input = graph.expand_input_of(task_id) or {}
    for source in expansion.referenced_tasks(expand_input):
        if TIS.SKIPPED in (states.get(source) or {}).values():
            return TIS.SKIPPED
    return TIS.UPSTREAM_FAILED


def _relevant_upstream_states(
    graph: DagGraph, spec: TaskSpec, upstream: str, map_index: int, states: RunStates
) -> list[str | None]:
    """The upstream instances a task instance waits for: in the same mapped task group, the
    instance of the same index (Airflow's relevant upstream map indexes); else all of them."""
    rows = states.get(upstream)
    if not rows:
        return [None]  # a missing row counts as not finished
    if (
        map_index >= 0
        and spec.mapped_group is not None
        and graph.tasks[upstream].mapped_group == spec.mapped_group
    ):
        if map_index in rows:
            return [rows[map_index]]
        if -1 in rows:  # not expanded (yet, or never: settled as a whole)
            return [rows[-1]]
        return [None]
    return list(rows.values())


def summarize(states: RunStates) -> dict[str, str | None]:
    """One state per task for the run-level rules: an unfinished instance makes the task
    unfinished, then a failed one failed, then a success success (else skipped/removed)."""
    summary: dict[str, str | None] = {}
    for task_id, rows in states.items():
        values = list(rows.values())
        if len(values) == 1:
            summary[task_id] = values[0]
            continue
        unfinished = [s for s in values if s not in TI_FINISHED]
        if unfinished:
            # The most active of them, so the deadlock check sees a running instance.
            summary[task_id] = next((s for s in unfinished if s is not None), None)
        elif TIS.FAILED in values:
            summary[task_id] = TIS.FAILED
        elif TIS.UPSTREAM_FAILED in values:
            summary[task_id] = TIS.UPSTREAM_FAILED
        elif TIS.SUCCESS in values:
            summary[task_id] = TIS.SUCCESS
        else:
            summary[task_id] = values[0]
    return summary


def _past_succeeded(run: DagRun, task_id: str) -> bool:
    """depends_on_past / wait_for_downstream, as Airflow's PrevDagrunDep: decided in
    dagruns/domain/past_runs.py, which "why is it waiting" asks too."""
    return past_depends_unmet(run, task_id) is None


def _run_outcome(graph: DagGraph, states: dict[str, str | None]) -> str | None:
    """Airflow's rule: the run is over when every task is finished; it failed if any leaf
    failed (or was upstream_failed), else it succeeded. A teardown is not a leaf unless it
    has on_failure_fail_dagrun: the work it tears down decides (so failed work with a
    successful teardown fails the run, and a failed teardown after good work does not).
    Unfinished tasks that can no longer progress (a deadlock, e.g. depends_on_past unmet)
    fail the run too."""
    if not states:
        return DagRunState.SUCCESS
    unfinished = [t for t, s in states.items() if s not in TI_FINISHED]
    if not unfinished:
        leaves = graph.run_state_leaves()
        leaf_failed = any(states.get(leaf) in TI_FAILED_LIKE for leaf in leaves)
        return DagRunState.FAILED if leaf_failed else DagRunState.SUCCESS
    return None


def _deadlocked(graph: DagGraph, states: dict[str, str | None]) -> bool:
    """Nothing is running or waiting to run, yet tasks are unfinished and none could be
    scheduled this tick: nothing will ever change, so the run fails (as Airflow decides).
    Like Airflow, a task waiting on depends_on_past is not a deadlock: the past may finish."""
    progressing = {
        TIS.SCHEDULED,
        TIS.QUEUED,
        TIS.RUNNING,
        TIS.UP_FOR_RETRY,
        TIS.UP_FOR_RESCHEDULE,
        TIS.DEFERRED,
        TIS.RESTARTING,
    }
    waiting = [t for t, s in states.items() if s is None]
    return (
        bool(waiting)
        and not any(s in progressing for s in states.values())
        and not any(graph.tasks[t].depends_on_past for t in waiting if t in graph.tasks)
    )


def apply(run: DagRun, d: RunDecisions, now: datetime) -> int:
    changes = 0
    # Expansions first, each in its own transaction (they insert rows).
    for task_id, length in d.expand.items():
        changes += 1 if expansion.expand(run, task_id, length, now) else 0
    for task_id, length in d.revise.items():
        changes += expansion.revise(run, task_id, length, now)
    for task_id, reason in d.fail_expansion.items():
        changes += expansion.fail_expansion(run, task_id, reason, now)
    base = TaskInstance.objects.filter(dag_run_id=run.pk)
    with transaction.atomic():
        # Conditional updates (`state` still what we read) so a concurrent clear or finish
        # is never overwritten by a decision made on stale states.
        if d.to_schedule:
            changes += (
                _of(base, d.to_schedule)
                .filter(state__isnull=True)
                .update(state=TIS.SCHEDULED, scheduled_dttm=now, try_number=F("try_number") + 1)
            )
        if d.retry_now:
            changes += (
                _of(base, d.retry_now)
                .filter(state=TIS.UP_FOR_RETRY, next_retry_at__lte=now)
                .update(
                    state=TIS.SCHEDULED,
                    scheduled_dttm=now,
                    try_number=F("try_number") + 1,
                    # A new try starts at execute(), not where a deferral of the last one
                    # would have resumed (Airflow clears next_method for the next try too).
                    next_method=None,
                    next_kwargs=None,
                )
            )
        if d.reschedule_now:
            # The same try again (Airflow never counts a reschedule as a try).
            changes += (
                _of(base, d.reschedule_now)
                .filter(state=TIS.UP_FOR_RESCHEDULE, next_retry_at__lte=now)
                .update(state=TIS.SCHEDULED, scheduled_dttm=now)
            )
        if d.run_themselves:
            changes += (
                _of(base, d.run_themselves)
                .filter(state__isnull=True)
                .update(
                    state=TIS.SUCCESS,
                    try_number=F("try_number") + 1,
                    start_date=now,
                    end_date=now,
                    duration=0.0,
                )
            )
        if d.start_in_triggerer:
            changes += do_start_from_trigger(run.pk, d.start_in_triggerer, now)
        for state, keys in d.settle.items():
            changes += (
                _of(base, keys).exclude(state__in=TI_FINISHED).update(state=state, end_date=now)
            )
        if d.run_state is not None:
            if DagRun.objects.filter(pk=run.pk, state=DagRunState.RUNNING).update(
                state=d.run_state, end_date=now
            ):
                # DAG callbacks and max_consecutive_failed_dag_runs, in this transaction.
                on_run_finished(run, d.run_state, now)
            changes += 1
        if changes:
            events.notify("run", dag_id=run.dag_id, run_id=run.run_id)
    return changes


def _of(base: QuerySet[TaskInstance], keys: list[TiKey]) -> QuerySet[TaskInstance]:
    """The rows of these (task_id, map_index) keys: unmapped ones by task id alone (the
    common case, one short IN list), map-indexed ones grouped by task."""
    by_task: dict[str, list[int]] = defaultdict(list)
    for task_id, map_index in keys:
        by_task[task_id].append(map_index)
    plain = [t for t, indexes in by_task.items() if indexes == [-1]]
    condition = Q(task_id__in=plain, map_index=-1) if plain else Q(pk__in=[])
    for task_id, indexes in by_task.items():
        if indexes != [-1]:
            condition |= Q(task_id=task_id, map_index__in=indexes)
    return base.filter(condition)
