"""`/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances…`: list (with `~` for every DAG and/or
run), batch list, get, tries, dependencies, patch (mark state / note, with a dry run), and
`POST /dags/{dag_id}/clearTaskInstances`."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.mapped import MapIndexError, TaskIsMapped, get_mapped_ti_or_raise
from dagruns.actions.notes import do_set_ti_note
from dagruns.actions.task_instances import do_clear, do_mark_state, select_task_instances
from dagruns.api.rest import present
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import bad_request, conflict, not_found
from dagruns.api.rest.pagination import UpdateMask, order, page, pattern_filter, range_filter
from dagruns.api.rest.query_values import check_choices
from dagruns.api.rest.routes.dag_runs import date_filters
from dagruns.api.rest.schemas.common import (
    DbInt,
    TaskInstanceState,
    TimeRangeFilters,
    UtcDatetime,
    errors,
)
from dagruns.api.rest.schemas.task_instances import (
    ClearTaskInstancesBody,
    PatchTaskInstanceBody,
    TaskDependencyCollectionResponse,
    TaskInstanceCollectionResponse,
    TaskInstanceHistoryCollectionResponse,
    TaskInstanceHistoryResponse,
    TaskInstanceResponse,
    TaskInstancesBatchBody,
)
from dagruns.domain.roles import Role
from dagruns.models import DagRun, TaskInstance, TaskInstanceHistory
from dagruns.models.states import TaskInstanceState as TIS

router = Router(tags=["Task Instance"])

PREFIX = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"
VERSION_HEAVY = ("dag_version__serialized", "dag_version__source_code")
TI_ORDER = {
    "id": "id",
    "state": "state",
    "duration": "duration",
    "start_date": "start_date",
    "end_date": "end_date",
    "map_index": "map_index",
    "try_number": "try_number",
    "logical_date": "dag_run__logical_date",
    "run_after": "dag_run__run_after",
    "data_interval_start": "dag_run__data_interval_start",
    "data_interval_end": "dag_run__data_interval_end",
    "operator": "operator",
    "rendered_map_index": "rendered_map_index",
    "task_id": "task_id",
    "dag_id": "dag_id",
    "run_id": "run_id",
    "pool": "pool",
    "queue": "queue",
    "priority_weight": "priority_weight",
    "updated_at": "updated_at",
}
DEFAULT_TI_ORDER = ["map_index", "task_id"]
NONE_STATES = {"none", "no_status"}


def ti_queryset():
    # The version's serialized DAG and source are big JSON/text no response shows: decoding
    # them for every row of a page was most of a list's cost.
    return present.with_dag_display_name(
        TaskInstance.objects.select_related("dag_run", "dag_version", "trigger").defer(
            *VERSION_HEAVY, "dag_run__conf"
        )
    )


def state_filter(states: list[Any]) -> Q:
    """Airflow's state filter, where `none` (or `no_status`) means "no state yet" (NULL)."""
    wanted = Q(state__in=[s for s in states if s is not None and s not in NONE_STATES])
    if any(s is None or s in NONE_STATES for s in states):
        wanted |= Q(state__isnull=True)
    return wanted


# Airflow's `*_pattern` filters of the task-instance lists: LIKE-contains on these fields.
NAME_PATTERNS = {
    "pool_name_pattern": "pool",
    "queue_name_pattern": "queue",
    "operator_name_pattern": "operator",
    "rendered_map_index_pattern": "rendered_map_index",
}


class TiListFilters(TimeRangeFilters):
    """The filters every task-instance list takes (a run's, and a mapped task's)."""

    updated_at_gte: UtcDatetime | None = None
    updated_at_gt: UtcDatetime | None = None
    updated_at_lte: UtcDatetime | None = None
    updated_at_lt: UtcDatetime | None = None
    state: list[str] = Field(default_factory=list)
    pool: list[str] = Field(default_factory=list)
    queue: list[str] = Field(default_factory=list)
    executor: list[str] = Field(default_factory=list)
    version_number: list[DbInt] = Field(default_factory=list)
    try_number: list[DbInt] = Field(default_factory=list)
    operator: list[str] = Field(default_factory=list)
    map_index: list[DbInt] = Field(default_factory=list)
    pool_name_pattern: str | None = None
    queue_name_pattern: str | None = None
    operator_name_pattern: str | None = None
    rendered_map_index_pattern: str | None = None
    # Newer clients send these too; refused by name rather than ignored (filter_tis).
    pool_name_prefix_pattern: str | None = None
    queue_name_prefix_pattern: str | None = None
    operator_name_prefix_pattern: str | None = None
    rendered_map_index_prefix_pattern: str | None = None
    limit: int = Field(50, ge=0)
    offset: int = Field(0, ge=0)
    order_by: list[str] = Field(default_factory=list)


class TiFilters(TiListFilters):
    task_id: str | None = None
    task_display_name_pattern: str | None = None
    dag_id_pattern: str | None = None
    run_id_pattern: str | None = None


def filter_tis(tis: QuerySet[TaskInstance], filters: TiListFilters) -> QuerySet[TaskInstance]:
    """Apply the filters both task-instance lists share (not their ordering or paging)."""
    for name, field in NAME_PATTERNS.items():
        prefix = name.replace("_pattern", "_prefix_pattern")
        if getattr(filters, prefix):
            raise bad_request(f"{prefix} is not supported yet: use {name} (matches anywhere)")
        tis = tis.filter(pattern_filter(field, getattr(filters, name), name))
    tis = tis.filter(
        _run_date_filters(filters),
        date_filters(filters, ("start_date", "end_date", "updated_at")),
        _duration(filters),
    )
    check_choices("state", filters.state, [*TaskInstanceState, *sorted(NONE_STATES)])
    if filters.state:
        tis = tis.filter(state_filter(filters.state))
    for name in ("pool", "queue", "executor", "operator", "try_number", "map_index"):
        values = getattr(filters, name)
        if values:
            tis = tis.filter(**{f"{name}__in": values})
    if filters.version_number:
        tis = tis.filter(dag_version__version_number__in=filters.version_number)
    return tis


def _run_date_filters(source: Any) -> Q:
    """run_after and logical_date live on the run, the other dates on the task instance."""
    q = Q()
    for name in ("run_after", "logical_date"):
        q &= range_filter(
            f"dag_run__{name}",
            gte=getattr(source, f"{name}_gte", None),
            gt=getattr(source, f"{name}_gt", None),
            lte=getattr(source, f"{name}_lte", None),
            lt=getattr(source, f"{name}_lt", None),
        )
    return q


def _duration(source: Any) -> Q:
    return range_filter(
        "duration",
        gte=source.duration_gte,
        gt=source.duration_gt,
        lte=source.duration_lte,
        lt=source.duration_lt,
    )


@router.get(
    PREFIX,
    response={200: TaskInstanceCollectionResponse, **errors(400, 404)},
    operation_id="get_task_instances",
)
def get_task_instances(
    request: HttpRequest, dag_id: str, dag_run_id: str, filters: Query[TiFilters]
):
    """List task instances. `~` as dag_id and/or dag_run_id lists them across DAGs and runs."""
    require(request, Role.VIEWER)
    tis = ti_queryset()
    if dag_run_id != "~":
        runs = DagRun.objects.filter(run_id=dag_run_id)
        if dag_id != "~":
            runs = runs.filter(dag_id=dag_id)
        if not runs.exists():
            raise not_found(f"DagRun with run_id: `{dag_run_id}` was not found")
        tis = tis.filter(run_id=dag_run_id)
    if dag_id != "~":
        get_dag_or_raise(dag_id)
        tis = tis.filter(dag_id=dag_id)
    tis = filter_tis(tis, filters).filter(
        _display_name_filter(filters.task_display_name_pattern),
        pattern_filter("dag_id", filters.dag_id_pattern, "dag_id_pattern"),
        pattern_filter("run_id", filters.run_id_pattern, "run_id_pattern"),
    )
    if filters.task_id is not None:
        tis = tis.filter(task_id=filters.task_id)
    tis = order(tis, filters.order_by, TI_ORDER, default=DEFAULT_TI_ORDER)
    rows, total = page(tis, filters.limit, filters.offset)
    return {"task_instances": [present.task_instance(t) for t in rows], "total_entries": total}


@router.post(
    PREFIX + "/list",
    response={200: TaskInstanceCollectionResponse, **errors(400, 404)},
    operation_id="get_task_instances_batch",
)
def get_task_instances_batch(
    request: HttpRequest,
    dag_id: Literal["~"],
    dag_run_id: Literal["~"],
    body: TaskInstancesBatchBody,
):
    """Task instances across DAGs and runs, filtered by a JSON body (`~`/`~` only, as in
    Airflow)."""
    require(request, Role.VIEWER)
    tis = ti_queryset()
    for name, field in (("dag_ids", "dag_id"), ("dag_run_ids", "run_id"), ("task_ids", "task_id")):
        values = getattr(body, name)
        if values is not None:
            tis = tis.filter(**{f"{field}__in": values})
    for name in ("pool", "queue", "executor"):
        values = getattr(body, name)
        if values:
            tis = tis.filter(**{f"{name}__in": values})
    if body.state:
        tis = tis.filter(state_filter(body.state))
    tis = tis.filter(
        _run_date_filters(body), date_filters(body, ("start_date", "end_date")), _duration(body)
    )
    tis = order(tis, [body.order_by] if body.order_by else None, TI_ORDER, DEFAULT_TI_ORDER)
    rows, total = page(tis, body.page_limit, body.page_offset)
    return {"task_instances": [present.task_instance(t) for t in rows], "total_entries": total}


def get_ti(
    dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, mapped_route: bool = False
) -> TaskInstance:
    """One task instance, or a 404 in Airflow's words plus why (a map index the task does not
    have, a map index given for an unmapped task, a mapped task asked for without one)."""
    ti = (
        ti_queryset()
        .filter(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
        .first()
    )
    if ti is None:
        what = "Mapped Task Instance" if mapped_route else "Task Instance"
        detail = (
            f"The {what} with dag_id: `{dag_id}`, run_id: `{run_id}`, task_id: "
            f"`{task_id}` and map_index: `{map_index}` was not found"
        )
        run = DagRun.objects.filter(dag_id=dag_id, run_id=run_id).first()
        if run is not None:
            try:
                get_mapped_ti_or_raise(run, task_id, map_index if map_index >= 0 else None)
            except TaskIsMapped as exc:
                # Airflow's words for a mapped task asked for without its index.
                detail = f"Task instance is mapped, add the map_index value to the URL ({exc})"
            except MapIndexError as exc:
                detail = f"{detail}: {exc}"
        raise not_found(detail)
    return ti


@router.get(
    PREFIX + "/{task_id}",
    response={200: TaskInstanceResponse, **errors(404)},
    operation_id="get_task_instance",
)
def get_task_instance(request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str):
    require(request, Role.VIEWER)
    return present.task_instance(get_ti(dag_id, dag_run_id, task_id))


def _tries(dag_id: str, run_id: str, task_id: str, map_index: int) -> list[Any]:
    """Every try, oldest first: the recorded ones, and the live row for its own try (our
    history also records the try the live row is at once it ends; the live row wins)."""
    ti = get_ti(dag_id, run_id, task_id, map_index)
    by_try: dict[int, Any] = {
        h.try_number: h
        for h in present.with_dag_display_name(
            TaskInstanceHistory.objects.select_related("dag_version")
        )
        .defer(*VERSION_HEAVY)
        .filter(task_instance_id=ti.pk)
    }
    by_try[ti.try_number] = ti
    return [by_try[n] for n in sorted(by_try)]


@router.get(
    PREFIX + "/{task_id}/tries",
    response={200: TaskInstanceHistoryCollectionResponse, **errors(404)},
    operation_id="get_task_instance_tries",
)
def get_task_instance_tries(
    request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str, map_index: DbInt = -1
):
    require(request, Role.VIEWER)
    tries = _tries(dag_id, dag_run_id, task_id, map_index)
    return {
        "task_instances": [present.task_instance_try(t) for t in tries],
        "total_entries": len(tries),
    }


@router.get(
    PREFIX + "/{task_id}/tries/{task_try_number}",
    response={200: TaskInstanceHistoryResponse, **errors(404)},
    operation_id="get_task_instance_try_details",
)
def get_task_instance_try_details(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    task_try_number: DbInt,
    map_index: DbInt = -1,
):
    require(request, Role.VIEWER)
    for row in _tries(dag_id, dag_run_id, task_id, map_index):
        if row.try_number == task_try_number:
            return present.task_instance_try(row)
    raise not_found(
        f"The Task Instance with dag_id: `{dag_id}`, run_id: `{dag_run_id}`, task_id: "
        f"`{task_id}`, try_number: `{task_try_number}` and map_index: `{map_index}` was not found"
    )


@router.get(
    PREFIX + "/{task_id}/dependencies",
    response={200: TaskDependencyCollectionResponse, **errors(404)},
    operation_id="get_task_instance_dependencies",
)
def get_task_instance_dependencies(
    request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str, map_index: DbInt = -1
):
    """Why a task instance that has not started is not running yet (empty once it started)."""
    require(request, Role.VIEWER)
    from dagruns.api.rest.dependencies import failed_dependencies

    ti = get_ti(dag_id, dag_run_id, task_id, map_index)
    return {"dependencies": failed_dependencies(ti)}


def _patch(
    request: HttpRequest,
    dag_id: str,
    run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    map_index: int | None,
    update_mask: list[str],
    dry_run: bool,
) -> dict[str, Any]:
    require(request, Role.USER)
    if map_index is None:
        # As Airflow: no map index means every instance of the task (one, if unmapped).
        tis = list(ti_queryset().filter(dag_id=dag_id, run_id=run_id, task_id=task_id))
        tis.sort(key=lambda t: t.map_index)
        if not tis:
            get_ti(dag_id, run_id, task_id)  # raises the 404 naming what is missing
    else:
        tis = [get_ti(dag_id, run_id, task_id, map_index, mapped_route=map_index >= 0)]
    ti = tis[0]
    fields = set(body.model_fields_set) & {"new_state", "note"}
    if update_mask:
        unknown = set(update_mask) - {"new_state", "note"}
        if unknown:
            raise bad_request(f"Invalid fields in update_mask: {', '.join(sorted(unknown))}")
        fields &= set(update_mask)
    note = (body.note or "") if "note" in fields else None
    affected = tis
    if "new_state" in fields and body.new_state is not None:
        chosen = select_task_instances(
            ti.dag_id,
            run_ids=[ti.run_id],
            task_ids=[ti.task_id],
            map_indexes={ti.task_id: {t.map_index for t in tis}},
            include_upstream=body.include_upstream,
            include_downstream=body.include_downstream,
            include_past=body.include_past,
            include_future=body.include_future,
        )
        affected = do_mark_state(chosen, body.new_state, actor(request), dry_run=True)
        if not affected and not dry_run:
            raise conflict(f"Task id {task_id} is already in {body.new_state} state")
        if not dry_run:
            # State and note in one transaction: both land or neither does.
            do_mark_state(chosen, body.new_state, actor(request), note=note, note_on=tis)
    elif note is not None and not dry_run:
        for one in tis:
            do_set_ti_note(one, note, actor(request))
    # Re-read with their runs and versions: one query, and the state after the change.
    fresh = (
        ti_queryset()
        .filter(pk__in=[t.pk for t in affected])
        .order_by("run_id", "task_id", "map_index")
    )
    rows = list(fresh)
    return {"task_instances": [present.task_instance(t) for t in rows], "total_entries": len(rows)}


PATCH_RESPONSES = {200: TaskInstanceCollectionResponse, **errors(400, 404, 409)}


@router.patch(
    PREFIX + "/{task_id}/dry_run",
    response=PATCH_RESPONSES,
    operation_id="patch_task_instance_dry_run",
)
def patch_task_instance_dry_run(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    mask: Query[UpdateMask],
    map_index: DbInt | None = None,
):
    """What `PATCH …/{task_id}` would change, changing nothing."""
    return _patch(request, dag_id, dag_run_id, task_id, body, map_index, mask.update_mask, True)


@router.patch(PREFIX + "/{task_id}", response=PATCH_RESPONSES, operation_id="patch_task_instance")
def patch_task_instance(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: PatchTaskInstanceBody,
    mask: Query[UpdateMask],
    map_index: DbInt | None = None,
):
    """Mark a task instance (and optionally its relatives) success, failed or skipped, and/or
    set its note. Returns the task instances changed; 409 when it already is in that state."""
    return _patch(request, dag_id, dag_run_id, task_id, body, map_index, mask.update_mask, False)


@router.post(
    "/dags/{dag_id}/clearTaskInstances",
    response={200: TaskInstanceCollectionResponse, **errors(400, 404, 409)},
    operation_id="post_clear_task_instances",
)
def post_clear_task_instances(request: HttpRequest, dag_id: str, body: ClearTaskInstancesBody):
    """Clear task instances so the scheduler runs them again. `dry_run` (the default, as in
    Airflow) lists them and changes nothing."""
    require(request, Role.USER)
    get_dag_or_raise(dag_id)
    run_ids = None
    if body.dag_run_id is not None:
        if not DagRun.objects.filter(dag_id=dag_id, run_id=body.dag_run_id).exists():
            raise not_found(f"Dag Run id {body.dag_run_id} not found in dag {dag_id}")
        run_ids = [body.dag_run_id]
    task_ids = None
    mapped: dict[str, set[int]] = {}
    if body.task_ids is not None:
        task_ids = []
        for item in body.task_ids:
            if isinstance(item, str):
                task_ids.append(item)
            else:
                task_ids.append(item[0])
                mapped.setdefault(item[0], set()).add(item[1])
        # As Airflow: a task named on its own means all its instances, whatever pairs say.
        for item in body.task_ids:
            if isinstance(item, str):
                mapped.pop(item, None)
    tis = select_task_instances(
        dag_id,
        run_ids=run_ids,
        task_ids=task_ids,
        map_indexes=mapped,
        include_upstream=body.include_upstream,
        include_downstream=body.include_downstream,
        include_past=body.include_past and run_ids is not None,
        include_future=body.include_future and run_ids is not None,
        only_failed=body.only_failed,
        only_running=body.only_running,
        start_date=body.start_date,
        end_date=body.end_date,
    )
    if body.prevent_running_task and any(t.state == TIS.RUNNING for t in tis):
        raise bad_request("Cannot clear task instances that are running: prevent_running_task")
    do_clear(
        tis,
        actor(request),
        dry_run=body.dry_run,
        reset_dag_runs=body.reset_dag_runs,
        note=body.note,
    )
    rows = list(
        ti_queryset().filter(pk__in=[t.pk for t in tis]).order_by("run_id", "task_id", "map_index")
    )
    return {"task_instances": [present.task_instance(t) for t in rows], "total_entries": len(rows)}


# A task whose id is literally "list" shares its URL with the batch list: hidden operations
# give it back GET and PATCH (see dag_runs.py for why).
@router.get(
    PREFIX + "/list", response={200: TaskInstanceResponse, **errors(404)}, include_in_schema=False
)
def get_task_instance_named_list(request: HttpRequest, dag_id: str, dag_run_id: str):
    return get_task_instance(request, dag_id, dag_run_id, "list")


@router.patch(PREFIX + "/list", response=PATCH_RESPONSES, include_in_schema=False)
def patch_task_instance_named_list(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    body: PatchTaskInstanceBody,
    mask: Query[UpdateMask],
    map_index: DbInt | None = None,
):
    return _patch(request, dag_id, dag_run_id, "list", body, map_index, mask.update_mask, False)


def _display_name_filter(pattern: str | None) -> Q:
    """Airflow matches task_display_name, which is the task id for a task that set none (our
    rows keep "" then)."""
    name = "task_display_name_pattern"
    if not pattern:
        return Q()
    return pattern_filter("task_display_name", pattern, name) | (
        Q(task_display_name="") & pattern_filter("task_id", pattern, name)
    )
