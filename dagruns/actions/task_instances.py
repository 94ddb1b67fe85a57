"""Clearing and marking task instances, and deleting runs (Airflow's clear / mark / delete).

Each `do_*` takes `dry_run`: it then returns exactly what would change and changes nothing, so
the UI and the REST API can show a confirmation listing the task instances affected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.tries import record_try_history
from dagruns.domain.dag_graph import graph_for_version
from dagruns.models import DagRun, DagRunState, TaskInstance
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED, TI_OCCUPYING_SLOT, TaskInstanceState
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

TIS = TaskInstanceState


class RunNotFound(LookupError):
    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"DAG run {run_id!r} of DAG {dag_id!r} not found")


class InvalidTaskPattern(ValueError):
    pass


def get_run_or_raise(dag_id: str, run_id: str) -> DagRun:
    try:
        return DagRun.objects.get(dag_id=dag_id, run_id=run_id)
    except DagRun.DoesNotExist:
        raise RunNotFound(dag_id, run_id) from None


def select_task_instances(
    dag_id: str,
    *,
    run_ids: Iterable[str] | None = None,
    task_ids: Iterable[str] | None = None,
    task_regex: str | None = None,
    include_upstream: bool = False,
    include_downstream: bool = False,
    only_failed: bool = False,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> list[TaskInstance]:
    """The task instances an action applies to: the named/matching tasks in the given runs
    (all runs if none), widened to their upstream and/or downstream tasks in each run's own
    DAG version, optionally narrowed to failed ones."""
    get_dag_or_raise(dag_id)
    pattern = None
    if task_regex:
        try:
            pattern = re.compile(task_regex)
        except re.error as exc:
            raise InvalidTaskPattern(f"task regex {task_regex!r} is invalid: {exc}") from None
    runs = DagRun.objects.filter(dag_id=dag_id)
    if run_ids is not None:
        runs = runs.filter(run_id__in=list(run_ids))
    if start_date:
        runs = runs.filter(logical_date__gte=start_date)
    if end_date:
        runs = runs.filter(logical_date__lte=end_date)
    wanted_ids = set(task_ids) if task_ids is not None else None
    chosen: list[TaskInstance] = []
    for run in runs.only("pk", "dag_version_id"):
        graph = graph_for_version(run.dag_version_id)
        roots = [
            t
            for t in graph.order
            if (wanted_ids is None or t in wanted_ids) and (pattern is None or pattern.search(t))
        ]
        selected = set(roots)
        if include_upstream:
            selected |= graph.upstream_closure(roots)
        if include_downstream:
            selected |= graph.downstream_closure(roots)
        tis = TaskInstance.objects.filter(dag_run_id=run.pk, task_id__in=selected)
        if only_failed:
            tis = tis.filter(state__in=TI_FAILED_LIKE)
        chosen.extend(tis.order_by("task_id"))
    return chosen


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
    tis: list[TaskInstance], actor: Actor, *, dry_run: bool = False, reset_dag_runs: bool = True
) -> list[TaskInstance]:
    """Send task instances back to `none` so the scheduler runs them again with a new try
    (Airflow's clear): history is kept, running tries are stopped, the retries budget starts
    afresh (max_tries = try_number + retries), and their runs go back to running."""
    if dry_run or not tis:
        return tis
    now = timezone.now()
    with transaction.atomic():
        for ti in tis:
            graph = graph_for_version(ti.dag_version_id) if ti.dag_version_id else None
            retries = graph.tasks[ti.task_id].retries if graph and ti.task_id in graph.tasks else 0
            if ti.state in TI_OCCUPYING_SLOT:
                # The running try is killed by its runner's next heartbeat (409) or at once by
                # the scheduler that runs it; its record says it ended here.
                record_history(ti, state=TIS.FAILED, end=now)
            elif ti.state in TI_FINISHED or ti.state == TIS.UP_FOR_RETRY:
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
            )
        run_pks = {ti.dag_run_id for ti in tis}
        if reset_dag_runs:
            _reopen_runs(run_pks, now)
        first = tis[0]
        record(
            actor,
            "clear",
            dag_id=first.dag_id,
            run_id=first.run_id if len({t.run_id for t in tis}) == 1 else "",
            extra={"task_instances": [f"{t.run_id}/{t.task_id}" for t in tis][:200]},
        )
        transaction.on_commit(wake_schedulers)
        _notify_runs(tis)
    return tis


def _reopen_runs(run_pks: set[int], now: datetime) -> None:
    from django.db.models import F

    DagRun.objects.filter(pk__in=run_pks).exclude(state=DagRunState.RUNNING).update(
        state=DagRunState.RUNNING, end_date=None, clear_number=F("clear_number") + 1
    )


def do_mark_state(
    tis: list[TaskInstance], state: str, actor: Actor, *, dry_run: bool = False
) -> list[TaskInstance]:
    """Set task instances to success or failed by hand (Airflow's mark success/failed).
    Running tries are stopped; finished runs are re-evaluated by the scheduler."""
    if state not in (TIS.SUCCESS, TIS.FAILED, TIS.SKIPPED):
        raise ValueError(f"cannot mark task instances as {state!r}: use success, failed or skipped")
    changing = [ti for ti in tis if ti.state != state]
    if dry_run or not changing:
        return changing
    now = timezone.now()
    with transaction.atomic():
        for ti in changing:
            if ti.state in TI_OCCUPYING_SLOT:
                record_history(ti, state=state, end=now)
        TaskInstance.objects.filter(pk__in=[ti.pk for ti in changing]).update(
            state=state, end_date=now, next_retry_at=None
        )
        _reopen_runs({ti.dag_run_id for ti in changing}, now)
        first = changing[0]
        record(
            actor,
            f"mark_{state}",
            dag_id=first.dag_id,
            run_id=first.run_id,
            extra={"task_instances": [f"{t.run_id}/{t.task_id}" for t in changing][:200]},
        )
        transaction.on_commit(wake_schedulers)
        _notify_runs(changing)
    return changing


def do_delete_run(dag_id: str, run_id: str, actor: Actor) -> None:
    """Delete a run with its task instances, history and XComs; running tries are stopped."""
    run = get_run_or_raise(dag_id, run_id)
    with transaction.atomic():
        run.delete()
        record(actor, "delete_dag_run", dag_id=dag_id, run_id=run_id)
        transaction.on_commit(wake_schedulers)
        events.notify("run", dag_id=dag_id, run_id=run_id)


def do_set_run_state(dag_id: str, run_id: str, state: str, actor: Actor) -> DagRun:
    """Mark a whole run success/failed/queued (Airflow's PATCH dagRun state). Marking it
    success or failed also settles its unfinished task instances the same way."""
    if state not in (DagRunState.SUCCESS, DagRunState.FAILED, DagRunState.QUEUED):
        raise ValueError(f"a DAG run cannot be set to {state!r}: use success, failed or queued")
    run = get_run_or_raise(dag_id, run_id)
    now = timezone.now()
    with transaction.atomic():
        if state == DagRunState.QUEUED:
            DagRun.objects.filter(pk=run.pk).update(state=state, end_date=None, start_date=None)
        else:
            unfinished = TaskInstance.objects.filter(dag_run=run).exclude(state__in=TI_FINISHED)
            ti_state = TIS.SUCCESS if state == DagRunState.SUCCESS else TIS.FAILED
            for ti in unfinished.filter(state__in=TI_OCCUPYING_SLOT):
                record_history(ti, state=ti_state, end=now)
            if state == DagRunState.FAILED:
                # Airflow: running tasks fail, tasks that never started are skipped.
                unfinished.filter(state__in=TI_OCCUPYING_SLOT).update(
                    state=TIS.FAILED, end_date=now
                )
                unfinished.exclude(state__in=TI_OCCUPYING_SLOT).update(
                    state=TIS.SKIPPED, end_date=now
                )
            else:
                unfinished.update(state=TIS.SUCCESS, end_date=now)
            DagRun.objects.filter(pk=run.pk).update(state=state, end_date=now)
        record(actor, f"set_run_state_{state}", dag_id=dag_id, run_id=run_id)
        transaction.on_commit(wake_schedulers)
        events.notify("run", dag_id=dag_id, run_id=run_id)
    run.refresh_from_db()
    return run


def _notify_runs(tis: list[TaskInstance]) -> None:
    for dag_id, run_id in {(ti.dag_id, ti.run_id) for ti in tis}:
        events.notify("run", dag_id=dag_id, run_id=run_id)
