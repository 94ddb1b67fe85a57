"""Step 3 of a scheduler tick: the critical section that moves scheduled task instances to
queued and hands them to the executor, respecting — all at once — the executor's open slots
(ORCH_PARALLELISM), each pool's free slots (pool_slots per task), each DAG's
max_active_tasks, and priority (priority_weight, then the oldest run first).

Several schedulers on PostgreSQL: the pool rows are locked FOR UPDATE first, which serializes
this section across schedulers (so two of them never both spend a pool's last slot), and the
candidate rows are read FOR UPDATE SKIP LOCKED, so a task instance is claimed by one scheduler
only. The state change is a conditional UPDATE (… WHERE state='scheduled') and only rows it
actually changed are handed to the executor: a task is never queued twice.
On SQLite, BEGIN IMMEDIATE already makes the whole section exclusive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from dagruns.models import DagModel, DagVersion, Pool, TaskInstance, TaskInstanceState
from dagruns.models.pool import DEFAULT_POOL_NAME, DEFAULT_POOL_SLOTS
from dagruns.models.states import TI_OCCUPYING_SLOT
from dagruns.notify import events
from scheduler.executors.base import BaseExecutor
from scheduler.runner.workload import WORKLOAD_VERSION, Workload

TIS = TaskInstanceState


_CANDIDATE_FIELDS = (
    "id", "dag_id", "run_id", "task_id", "map_index", "try_number", "pool", "pool_slots",
    "queue", "priority_weight", "executor_config", "scheduled_dttm",
    "dag_run__run_after", "dag_run__dag_version_id",
)  # fmt: skip


def queue_ready_tasks(executor: BaseExecutor, now: datetime, max_tis: int = 512) -> int:
    slots = executor.open_slots
    if slots <= 0 or not TaskInstance.objects.filter(state=TIS.SCHEDULED).exists():
        return 0  # most ticks: nothing to queue, no need to lock the pools
    with transaction.atomic():
        pools = {p.name: p.slots for p in _locked(Pool.objects.all())}
        if DEFAULT_POOL_NAME not in pools:
            # default_pool always exists: a migration creates it and deleting it is refused,
            # but a raw SQL delete or a flushed test database must not stall every task.
            pools[DEFAULT_POOL_NAME] = Pool.objects.get_or_create(
                name=DEFAULT_POOL_NAME, defaults={"slots": DEFAULT_POOL_SLOTS}
            )[0].slots
        candidates = list(
            _locked(
                TaskInstance.objects.filter(state=TIS.SCHEDULED)
                .select_related("dag_run")
                # Only what queueing needs: full rows would decode every JSON column.
                .only(*_CANDIDATE_FIELDS)
                .order_by("-priority_weight", "dag_run__run_after", "scheduled_dttm", "task_id"),
                skip_locked=True,
            )[:max_tis]
        )
        if not candidates:
            return 0
        chosen = _choose(candidates, pools, slots)
        if not chosen:
            return 0
        queued_ids = _mark_queued([ti.pk for ti in chosen], now)
        filelocs = dict(
            DagVersion.objects.filter(
                pk__in={ti.dag_run.dag_version_id for ti in chosen}
            ).values_list("pk", "fileloc")
        )
        workloads = [
            _workload(ti, filelocs.get(ti.dag_run.dag_version_id, ""))
            for ti in chosen
            if ti.pk in queued_ids
        ]
        for dag_id, run_id in {(ti.dag_id, ti.run_id) for ti in chosen if ti.pk in queued_ids}:
            events.notify("run", dag_id=dag_id, run_id=run_id)
    for workload in workloads:  # after commit: the runner's claim must see `queued`
        executor.queue(workload)
    return len(workloads)


def _locked(queryset, skip_locked: bool = False):
    if connection.vendor == "sqlite":
        return queryset  # the IMMEDIATE transaction holds the database's write lock
    return queryset.select_for_update(skip_locked=skip_locked, of=("self",))


def _choose(
    candidates: list[TaskInstance], pools: dict[str, int], slots: int
) -> list[TaskInstance]:
    pool_used = dict(
        TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT)
        .values_list("pool")
        .annotate(used=Sum("pool_slots"))
    )
    dag_ids = {ti.dag_id for ti in candidates}
    dag_running = dict(
        TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT, dag_id__in=dag_ids)
        .values_list("dag_id")
        .annotate(n=Count("id"))
    )
    dag_limit = dict(
        DagModel.objects.filter(dag_id__in=dag_ids).values_list("dag_id", "max_active_tasks")
    )
    chosen: list[TaskInstance] = []
    pool_add: dict[str, int] = defaultdict(int)
    dag_add: dict[str, int] = defaultdict(int)
    for ti in candidates:
        if len(chosen) >= slots:
            break
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
        chosen.append(ti)
        pool_add[ti.pool] += ti.pool_slots
        dag_add[ti.dag_id] += 1
    return chosen


def _mark_queued(ids: list, now: datetime) -> set:
    TaskInstance.objects.filter(pk__in=ids, state=TIS.SCHEDULED).update(
        state=TIS.QUEUED, queued_dttm=now, executor=settings.ORCH["EXECUTOR"]
    )
    return set(
        TaskInstance.objects.filter(pk__in=ids, state=TIS.QUEUED, queued_dttm=now).values_list(
            "pk", flat=True
        )
    )


def _workload(ti: TaskInstance, fileloc: str) -> Workload:
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
        dags_folder=str(settings.ORCH["DAGS_FOLDER"]),
        token=issue_token(ti.pk, ti.try_number),
        api_url=settings.ORCH["API_URL"],
        queue=ti.queue,
        executor_config=ti.executor_config or {},
        execution_timeout=spec.execution_timeout if spec else None,
        pool=ti.pool,
        heartbeat_interval=settings.ORCH["TASK_HEARTBEAT_INTERVAL"],
        report_retry_timeout=settings.ORCH["TASK_REPORT_RETRY_TIMEOUT"],
    )
