"""Step 2 of a scheduler tick: move queued runs to running, then decide, for each running run,
which task instances are ready (→ scheduled), which can never run (→ skipped/upstream_failed),
and whether the run is finished."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from dagruns.actions.dag_callbacks import on_run_finished
from dagruns.domain.dag_graph import DagGraph, graph_for_version
from dagruns.domain.trigger_rules import UpstreamCounts, evaluate
from dagruns.models import DagModel, DagRun, DagRunState, TaskInstance, TaskInstanceState
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED
from dagruns.notify import events

TIS = TaskInstanceState


def start_queued_runs(now: datetime, dag_ids: list[str] | None = None) -> int:
    """Queued runs of unpaused DAGs start, oldest first, while the DAG is under
    max_active_runs (Airflow 3 creates runs queued and starts them here)."""
    queued = DagRun.objects.filter(state=DagRunState.QUEUED)
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
        running = DagRun.objects.filter(dag_id=dag_id, state=DagRunState.RUNNING).count()
        if running >= limit:
            return 0
        oldest = (
            DagRun.objects.filter(dag_id=dag_id, state=DagRunState.QUEUED)
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


@dataclass
class RunDecisions:
    """What examining one run decided, applied in one transaction."""

    to_schedule: list[str] = field(default_factory=list)
    retry_now: list[str] = field(default_factory=list)
    run_themselves: list[str] = field(default_factory=list)
    settle: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    run_state: str | None = None

    @property
    def changes(self) -> int:
        settled = sum(len(v) for v in self.settle.values())
        return len(self.to_schedule) + len(self.retry_now) + len(self.run_themselves) + settled


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
    # downstream in the same tick: iterate to a fixed point rather than waiting a tick per level.
    for _ in range(len(graph.order) + 1):
        rows = TaskInstance.objects.filter(dag_run_id=run.pk, map_index=-1).values_list(
            "task_id", "state", "next_retry_at"
        )
        states = {task_id: state for task_id, state, _ in rows}
        retry_due = {t for t, s, at in rows if s == TIS.UP_FOR_RETRY and (at is None or at <= now)}
        decisions = decide(graph, states, run, now, retry_due)
        if decisions.changes == 0 and decisions.run_state is None:
            break
        applied = apply(run, decisions, now)
        changes += applied
        if decisions.run_state is not None or applied == 0:
            break
        if not decisions.settle and not decisions.run_themselves:
            # Only settled tasks (and EmptyOperator successes) can unlock more decisions in
            # this tick; scheduled ones change nothing until they run. Skip the re-read.
            break
    return changes


def decide(
    graph: DagGraph,
    states: dict[str, str | None],
    run: DagRun,
    now: datetime,
    retry_due: set[str] = frozenset(),  # type: ignore[assignment]
) -> RunDecisions:
    d = RunDecisions()
    if (
        graph.dagrun_timeout
        and run.start_date
        and now - run.start_date > timedelta(seconds=graph.dagrun_timeout)
    ):
        # Airflow: a timed-out run fails; its unfinished tasks are skipped (running ones are
        # then told to stop by their next heartbeat).
        d.settle[TIS.SKIPPED] = [t for t, s in states.items() if s not in TI_FINISHED]
        d.run_state = DagRunState.FAILED
        return d
    for task_id in graph.order:
        state = states.get(task_id, "missing")
        if state == "missing":
            continue
        if state == TIS.UP_FOR_RETRY:
            if task_id in retry_due:
                d.retry_now.append(task_id)
            continue
        if state is not None:
            continue
        spec = graph.tasks[task_id]
        counts = UpstreamCounts.of(
            (states.get(up), graph.tasks[up].is_setup) for up in spec.upstream
        )
        decision = evaluate(spec.trigger_rule, counts)
        if decision.new_state:
            d.settle[decision.new_state].append(task_id)
        elif decision.ready:
            if spec.depends_on_past and not _past_succeeded(run, task_id):
                continue
            (d.run_themselves if spec.runs_itself else d.to_schedule).append(task_id)
    if d.changes == 0:
        d.run_state = _run_outcome(graph, states)
        if d.run_state is None and _deadlocked(graph, states):
            d.run_state = DagRunState.FAILED
    return d


def _past_succeeded(run: DagRun, task_id: str) -> bool:
    """depends_on_past, as Airflow's PrevDagrunDep: every instance (all map indexes) of this
    task in the previous run succeeded or was skipped; with wait_for_downstream, so did every
    instance of its immediate downstream tasks there. The first run has no past to wait for.
    A previous run without this task (it was added since) lets it start only when it never ran
    before and ignore_first_depends_on_past is set (our default, as Airflow's
    ignore_first_depends_on_past_by_default); otherwise it waits, as in Airflow."""
    previous = (
        DagRun.objects.filter(dag_id=run.dag_id, run_after__lt=run.run_after)
        .order_by("-run_after")
        .values_list("pk", flat=True)
        .first()
    )
    if previous is None:
        return True
    spec = graph_for_version(run.dag_version_id).tasks.get(task_id)
    past = TaskInstance.objects.filter(dag_run_id=previous)
    if not past.filter(task_id=task_id).exists():
        ignore_first = spec.ignore_first_depends_on_past if spec is not None else True
        never_ran = not TaskInstance.objects.filter(
            dag_id=run.dag_id, task_id=task_id, dag_run__run_after__lt=run.run_after
        ).exists()
        return ignore_first and never_ran
    watched = [task_id]
    if spec is not None and spec.wait_for_downstream:
        watched += spec.downstream
    # "Unsuccessful" as Airflow counts it: not finished counts too (None, running ...).
    return not (
        past.filter(task_id__in=watched).exclude(state__in=(TIS.SUCCESS, TIS.SKIPPED)).exists()
    )


def _run_outcome(graph: DagGraph, states: dict[str, str | None]) -> str | None:
    """Airflow's rule: the run is over when every task is finished; it failed if any leaf
    failed (or was upstream_failed), else it succeeded. Unfinished tasks that can no longer
    progress (a deadlock, e.g. depends_on_past unmet) fail the run too."""
    if not states:
        return DagRunState.SUCCESS
    unfinished = [t for t, s in states.items() if s not in TI_FINISHED]
    if not unfinished:
        leaf_failed = any(states.get(leaf) in TI_FAILED_LIKE for leaf in graph.leaves)
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
    base = TaskInstance.objects.filter(dag_run_id=run.pk, map_index=-1)
    with transaction.atomic():
        # Conditional updates (`state` still what we read) so a concurrent clear or finish
        # is never overwritten by a decision made on stale states.
        if d.to_schedule:
            changes += base.filter(task_id__in=d.to_schedule, state__isnull=True).update(
                state=TIS.SCHEDULED, scheduled_dttm=now, try_number=F("try_number") + 1
            )
        if d.retry_now:
            changes += base.filter(
                task_id__in=d.retry_now, state=TIS.UP_FOR_RETRY, next_retry_at__lte=now
            ).update(state=TIS.SCHEDULED, scheduled_dttm=now, try_number=F("try_number") + 1)
        if d.run_themselves:
            changes += base.filter(task_id__in=d.run_themselves, state__isnull=True).update(
                state=TIS.SUCCESS,
                try_number=F("try_number") + 1,
                start_date=now,
                end_date=now,
                duration=0.0,
            )
        for state, task_ids in d.settle.items():
            changes += (
                base.filter(task_id__in=task_ids)
                .exclude(state__in=TI_FINISHED)
                .update(state=state, end_date=now)
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
