"""Step 3 of a scheduler tick: the critical section that moves scheduled task instances to
queued and hands them to the executor, respecting — all at once — the open slots of the executor
each task goes to (ORCH_PARALLELISM per executor and per scheduler, as in Airflow 3: a full
executor starves only its own tasks), each pool's free slots (pool_slots per task),
each DAG's max_active_tasks, each task's max_active_tis_per_dag/_per_dagrun, and priority
(priority_weight, then the oldest run first). Tasks of paused DAGs are not queued.

Several schedulers on PostgreSQL: the pool rows are locked FOR UPDATE first, which serializes
this section across schedulers (so two of them never both spend a pool's last slot), and the
candidate rows are read FOR UPDATE SKIP LOCKED, so a task instance is claimed by one scheduler
only. The state change is a conditional UPDATE (… WHERE state='scheduled') and only rows it
actually changed are handed to the executor: a task is never queued twice.
On SQLite, BEGIN IMMEDIATE already makes the whole section exclusive.

Each try goes to the executor its task asked for (operator `executor=`, from the run's DAG
version) or the default, and `TaskInstance.executor` records which one took it. A task naming an
executor that is not configured (the DAG processor refuses such a file, so only a version stored
before ORCH_EXECUTOR changed can) stays scheduled with an error in the log, as in Airflow, and
runs once the executor is configured again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from dagruns.domain.dag_graph import graph_for_version
from dagruns.models import DagModel, DagVersion, Pool, TaskInstance, TaskInstanceState
from dagruns.models.pool import DEFAULT_POOL_NAME, DEFAULT_POOL_SLOTS
from dagruns.models.states import TI_OCCUPYING_SLOT
from dagruns.notify import events
from scheduler.executors.base import BaseExecutor
from scheduler.runner.workload import WORKLOAD_VERSION, Workload

TIS = TaskInstanceState
log = logging.getLogger(__name__)


_CANDIDATE_FIELDS = (
    "id", "dag_id", "run_id", "task_id", "map_index", "try_number", "pool", "pool_slots",
    "queue", "priority_weight", "executor_config", "scheduled_dttm",
    "dag_run__run_after", "dag_run__dag_version_id",
)  # fmt: skip


def queue_ready_tasks(
    executor: BaseExecutor,
    now: datetime,
    max_tis: int = 512,
    dag_ids: list[str] | None = None,
    queued_by: int | None = None,
    adopted: int = 0,
) -> int:
    """Queue what the limits allow (see the module docstring). Tasks of paused DAGs are never
    queued (as in Airflow: their running tries finish, nothing new starts until unpaused);
    with `dag_ids` (`dags test`) only those DAGs' tasks are queued, paused or not. `queued_by`
    is the queueing scheduler's Job id, recorded on each try (Airflow's queued_by_job_id);
    `adopted` runners (a previous incarnation's local runners, still running) take slots of
    ORCH_PARALLELISM as the local executor's own do."""
    slots = _open_slots(executor, adopted)
    ready = TaskInstance.objects.filter(state=TIS.SCHEDULED)
    ready = (
        ready.filter(dag_id__in=dag_ids)
        if dag_ids is not None
        else ready.filter(dag_run__dag__is_paused=False)
    )
    if not any(n > 0 for n in slots.values()) or not ready.exists():
        return 0  # most ticks: nothing to queue, no need to lock the pools
    with transaction.atomic():
        pools = {p.name: p.slots for p in _locked(Pool.objects.all())}
        if DEFAULT_POOL_NAME not in pools:
            # default_pool always exists: a migration creates it and deleting it is refused,
            # but a raw SQL delete or a flushed test database must not stall every task.
            pools[DEFAULT_POOL_NAME] = Pool.objects.get_or_create(
                name=DEFAULT_POOL_NAME, defaults={"slots": DEFAULT_POOL_SLOTS}
            )[0].slots
        chosen, routes, queued_ids = _choose_in_passes(
            executor, ready, pools, slots, max_tis, now, queued_by
        )
        if not chosen:
            return 0
        files: dict[int | None, tuple[str, str]] = {
            pk: (fileloc, source_hash)
            for pk, fileloc, source_hash in DagVersion.objects.filter(
                pk__in={ti.dag_run.dag_version_id for ti in chosen}
            ).values_list("pk", "fileloc", "source_hash")
        }
        workloads = [
            (routes[ti.pk], _workload(ti, *files.get(ti.dag_run.dag_version_id, ("", ""))))
            for ti in chosen
            if ti.pk in queued_ids
        ]
        for dag_id, run_id in {(ti.dag_id, ti.run_id) for ti in chosen if ti.pk in queued_ids}:
            events.notify("run", dag_id=dag_id, run_id=run_id)
    for executor_name, workload in workloads:  # after commit: the claim must see `queued`
        executor.queue_on(executor_name, workload)
    return len(workloads)


# At most this many candidate windows per tick (each `max_tis` rows), as Airflow's loop over
# starved tasks is bounded by finding no new ones.
_MAX_PASSES = 8


def _choose_in_passes(
    executor: BaseExecutor,
    ready,
    pools: dict[str, int],
    slots: dict[str, int],
    max_tis: int,
    now: datetime,
    queued_by: int | None,
) -> tuple[list[TaskInstance], dict[Any, str], set]:
    """Choose and mark queued, window after window of `max_tis` candidates: a window full of
    tasks whose executor is full (or not configured) must not hide another executor's tasks
    behind it. As Airflow's starved tasks, those tasks are left out of the next window's query
    (by DAG version and task: the executor is the task's). Each window is marked queued before
    the next is read, so its counts (pools, DAG and task limits) include it."""
    free = dict(slots)
    chosen: list[TaskInstance] = []
    routes: dict[Any, str] = {}
    queued_ids: set = set()
    starved: dict[int, set[str]] = defaultdict(set)  # dag version -> tasks left out
    for _ in range(_MAX_PASSES):
        query = ready.select_related("dag_run")
        for version_id, task_ids in starved.items():
            query = query.exclude(dag_run__dag_version_id=version_id, task_id__in=task_ids)
        candidates = list(
            _locked(
                # Only what queueing needs: full rows would decode every JSON column.
                query.only(*_CANDIDATE_FIELDS).order_by(
                    "-priority_weight", "dag_run__run_after", "scheduled_dttm", "task_id"
                ),
                skip_locked=True,
            )[:max_tis]
        )
        window_routes = _routes(executor, candidates)
        window = _choose(candidates, pools, free, window_routes)
        if window:
            queued_ids |= _mark_queued(window, window_routes, now, queued_by)
            chosen += window
            routes.update(window_routes)
            for ti in window:
                free[window_routes[ti.pk]] -= 1
        taken = {ti.pk for ti in window}
        newly_starved = 0
        for ti in candidates:
            name = window_routes.get(ti.pk)
            if ti.pk in taken or (name is not None and free[name] > 0):
                continue  # chosen, or held back by a pool or a DAG/task limit, not its executor
            key = ti.dag_run.dag_version_id
            if ti.task_id not in starved[key]:
                starved[key].add(ti.task_id)
                newly_starved += 1
        if len(candidates) < max_tis or not newly_starved or not any(n > 0 for n in free.values()):
            break
    return chosen, routes, queued_ids


def _open_slots(executor: BaseExecutor, adopted: int) -> dict[str, int]:
    """Each executor's open slots; adopted runners are the local executor's (the default's
    when no local one is configured: with one executor, the slots are all one)."""
    slots = executor.open_slots_by_executor()
    if adopted:
        owner = "local" if "local" in slots else next(iter(slots))
        slots[owner] = max(0, slots[owner] - adopted)
    return slots


# (dag_id, task_id, executor) already logged as unroutable by this process: one error line each.
_unroutable_logged: set[tuple[str, str, str]] = set()


def _routes(executor: BaseExecutor, candidates: list[TaskInstance]) -> dict[Any, str]:
    """Candidate pk -> the executor that takes it; absent when its task names one that is not
    configured."""
    routes: dict[Any, str] = {}
    for ti in candidates:
        spec = graph_for_version(ti.dag_run.dag_version_id).tasks.get(ti.task_id)
        requested = spec.executor if spec is not None else None
        name = executor.executor_for(requested)
        if name is not None:
            routes[ti.pk] = name
        elif requested is not None:
            key = (ti.dag_id, ti.task_id, requested)
            if key not in _unroutable_logged:
                _unroutable_logged.add(key)
                log.error(
                    "Task %r of DAG %r asks for executor %r, which is not configured "
                    "(ORCH_EXECUTOR=%s); its task instances stay scheduled until it is",
                    ti.task_id,
                    ti.dag_id,
                    requested,
                    settings.ORCH.executor,
                )
    return routes


def _locked(queryset, skip_locked: bool = False):
    if connection.vendor == "sqlite":
        return queryset  # the IMMEDIATE transaction holds the database's write lock
    return queryset.select_for_update(skip_locked=skip_locked, of=("self",))


def _choose(
    candidates: list[TaskInstance],
    pools: dict[str, int],
    slots: Mapping[str, int],
    routes: Mapping[Any, str],
) -> list[TaskInstance]:
    pool_used = dict(
        TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT)
        .values_list("pool")
        .annotate(used=Sum("pool_slots"))
    )
    for pool, used in _deferred_in_counting_pools().items():
        pool_used[pool] = pool_used.get(pool, 0) + used
    dag_ids = {ti.dag_id for ti in candidates}
    dag_running = dict(
        TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT, dag_id__in=dag_ids)
        .values_list("dag_id")
        .annotate(n=Count("id"))
    )
    dag_limit = dict(
        DagModel.objects.filter(dag_id__in=dag_ids).values_list("dag_id", "max_active_tasks")
    )
    caps = _TaskCaps(candidates)
    chosen: list[TaskInstance] = []
    pool_add: dict[str, int] = defaultdict(int)
    dag_add: dict[str, int] = defaultdict(int)
    free = dict(slots)
    for ti in candidates:
        if not any(n > 0 for n in free.values()):
            break
        executor_name = routes.get(ti.pk)
        if executor_name is None or free.get(executor_name, 0) <= 0:
            continue  # its executor is full (or not configured): others may still take theirs
        if ti.pool not in pools:
            continue  # unknown pool: it waits, as in Airflow, until someone creates it
        capacity = pools[ti.pool]
        if (
            capacity >= 0
            and pool_used.get(ti.pool, 0) + pool_add[ti.pool] + ti.pool_slots > capacity
        ):
            continue
        limit = dag_limit.get(ti.dag_id, 16)
        if dag_running.get(ti.dag_id, 0) + dag_add[ti.dag_id] >= limit:
            continue
        if not caps.admits(ti):
            continue
        chosen.append(ti)
        free[executor_name] -= 1
        pool_add[ti.pool] += ti.pool_slots
        dag_add[ti.dag_id] += 1
        caps.add(ti)
    return chosen


def _deferred_in_counting_pools() -> dict[str, int]:
    """Slots of deferred tasks in pools with include_deferred: as in Airflow, such a pool
    counts a deferred task as occupying its slots (a deferred task frees its worker slot, not
    necessarily its pool slot)."""
    counting = Pool.objects.filter(include_deferred=True).values_list("name", flat=True)
    return dict(
        TaskInstance.objects.filter(state=TIS.DEFERRED, pool__in=counting)
        .values_list("pool")
        .annotate(used=Sum("pool_slots"))
        .order_by()
    )


class _TaskCaps:
    """A task's own limits, as Airflow's max_active_tis_per_dag (its tries queued or running
    at once across all runs) and max_active_tis_per_dagrun (within one run, which matters for
    mapped tasks). Counted, like the other limits, inside the queueing critical section."""

    def __init__(self, candidates: list[TaskInstance]) -> None:
        self.per_dag: dict[tuple[str, str], int] = {}
        self.per_run: dict[tuple[str, str], int] = {}
        for ti in candidates:
            spec = graph_for_version(ti.dag_run.dag_version_id).tasks.get(ti.task_id)
            if spec is not None and spec.max_active_tis_per_dag is not None:
                self.per_dag[(ti.dag_id, ti.task_id)] = spec.max_active_tis_per_dag
            if spec is not None and spec.max_active_tis_per_dagrun is not None:
                self.per_run[(ti.dag_id, ti.task_id)] = spec.max_active_tis_per_dagrun
        self.dag_used: dict[tuple[str, str], int] = defaultdict(int)
        self.run_used: dict[tuple[int, str], int] = defaultdict(int)
        capped = set(self.per_dag) | set(self.per_run)
        if not capped:
            return
        occupying = TaskInstance.objects.filter(
            state__in=TI_OCCUPYING_SLOT,
            dag_id__in={dag_id for dag_id, _ in capped},
            task_id__in={task_id for _, task_id in capped},
        )
        for dag_id, task_id, n in (
            occupying.values_list("dag_id", "task_id").annotate(n=Count("id")).order_by()
        ):
            self.dag_used[(dag_id, task_id)] += n
        for run_pk, task_id, n in (
            occupying.values_list("dag_run_id", "task_id").annotate(n=Count("id")).order_by()
        ):
            self.run_used[(run_pk, task_id)] += n

    def admits(self, ti: TaskInstance) -> bool:
        key = (ti.dag_id, ti.task_id)
        if key in self.per_dag and self.dag_used[key] >= self.per_dag[key]:
            return False
        run_key = (ti.dag_run_id, ti.task_id)
        return not (key in self.per_run and self.run_used[run_key] >= self.per_run[key])

    def add(self, ti: TaskInstance) -> None:
        self.dag_used[(ti.dag_id, ti.task_id)] += 1
        self.run_used[(ti.dag_run_id, ti.task_id)] += 1


def _mark_queued(
    chosen: list[TaskInstance],
    routes: Mapping[Any, str],
    now: datetime,
    queued_by: int | None,
) -> set:
    """Conditionally move `chosen` to queued, recording the executor each goes to (one UPDATE
    per executor); returns the pks this call actually moved."""
    by_executor: dict[str, list] = defaultdict(list)
    for ti in chosen:
        by_executor[routes[ti.pk]].append(ti.pk)
    for executor_name, pks in by_executor.items():
        TaskInstance.objects.filter(pk__in=pks, state=TIS.SCHEDULED).update(
            state=TIS.QUEUED,
            queued_dttm=now,
            executor=executor_name,
            queued_by_job_id=queued_by,
        )
    ids = [ti.pk for ti in chosen]
    return set(
        TaskInstance.objects.filter(pk__in=ids, state=TIS.QUEUED, queued_dttm=now).values_list(
            "pk", flat=True
        )
    )


def workload_for(ti: TaskInstance) -> Workload:
    """A fresh workload (a new token) for `ti`'s current try: what a re-send carries."""
    version_id = ti.dag_run.dag_version_id
    fileloc, source_hash = (
        DagVersion.objects.filter(pk=version_id).values_list("fileloc", "source_hash").first()
        if version_id is not None
        else None
    ) or ("", "")
    return _workload(ti, fileloc or "", source_hash or "")


def _workload(ti: TaskInstance, fileloc: str, source_hash: str = "") -> Workload:
    from dagruns.domain.dag_graph import graph_for_version
    from dagruns.domain.tokens import issue_token

    spec = graph_for_version(ti.dag_run.dag_version_id).tasks.get(ti.task_id)
    # model_construct: every value comes from our own validated rows and settings, so the
    # check belongs where the workload enters the runner (Workload.parse), not here on the
    # scheduler's hot path.
    return Workload.model_construct(
        version=WORKLOAD_VERSION,
        ti_id=str(ti.pk),
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        try_number=ti.try_number,
        dag_fileloc=fileloc,
        dags_folder=str(settings.ORCH.dags_folder),
        plugins_folder=str(settings.ORCH.plugins_folder),
        dag_source_hash=source_hash or None,
        token=issue_token(ti.pk, ti.try_number),
        api_url=settings.ORCH.api_url,
        queue=ti.queue,
        priority_weight=ti.priority_weight,
        executor_config=ti.executor_config or {},
        execution_timeout=spec.execution_timeout if spec else None,
        pool=ti.pool,
        heartbeat_interval=settings.ORCH.task_heartbeat_interval,
        report_retry_timeout=settings.ORCH.task_report_retry_timeout,
    )
