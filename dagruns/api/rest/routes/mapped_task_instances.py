"""Mapped task instances in Airflow 3's REST shape: `…/taskInstances/{task_id}/listMapped`,
and the `/{task_id}/{map_index}` forms of get, tries, try details, dependencies and PATCH
(with its dry run). The `?map_index=` query forms stay on task_instances.py, as in Airflow."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from dagruns.actions.mapped import is_mapped
from dagruns.api.rest import present
from dagruns.api.rest.auth import require
from dagruns.api.rest.errors import not_found
from dagruns.api.rest.pagination import UpdateMask, order, page
from dagruns.api.rest.routes.task_instances import (
    PATCH_RESPONSES,
    PREFIX,
    TI_ORDER,
    TiListFilters,
    _patch,
    filter_tis,
    get_task_instance_dependencies,
    get_task_instance_tries,
    get_task_instance_try_details,
    get_ti,
    ti_queryset,
)
from dagruns.api.rest.schemas.common import (
    DbInt,
    errors,
)
from dagruns.api.rest.schemas.task_instances import (
    PatchTaskInstanceBody,
    TaskDependencyCollectionResponse,
    TaskInstanceCollectionResponse,
    TaskInstanceHistoryCollectionResponse,
    TaskInstanceHistoryResponse,
    TaskInstanceResponse,
)
from dagruns.domain.roles import Role
from dagruns.models import DagRun

router = Router(tags=["Task Instance"])

# Airflow's listMapped sorts by these (its task-instance list's, less the ids it fixes).
MAPPED_ORDER = {
    name: TI_ORDER[name]
    for name in (
        "id",
        "state",
        "duration",
        "start_date",
        "end_date",
        "map_index",
        "try_number",
        "logical_date",
        "run_after",
        "data_interval_start",
        "data_interval_end",
        "rendered_map_index",
        "operator",
    )
}


@router.get(
    PREFIX + "/{task_id}/listMapped",
    response={200: TaskInstanceCollectionResponse, **errors(400, 404)},
    operation_id="get_mapped_task_instances",
)
def get_mapped_task_instances(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    filters: Query[TiListFilters],
):
    """The instances of a mapped task in one run (map_index >= 0), by map index unless
    `order_by` says otherwise. A task expanded to nothing (or not yet) lists none; a task
    that is not mapped, or not in the run, is a 404."""
    require(request, Role.VIEWER)
    run = DagRun.objects.filter(dag_id=dag_id, run_id=dag_run_id).first()
    if run is None:
        raise not_found(f"DagRun with run_id: `{dag_run_id}` was not found")
    tis = ti_queryset().filter(dag_run=run, task_id=task_id, map_index__gte=0)
    # No mapped rows may mean an expansion to nothing: only then ask what the task is.
    if not tis.exists():
        if not run.task_instances.filter(task_id=task_id).exists():
            raise not_found(f"Task id {task_id} not found")
        if not is_mapped(run, task_id):
            raise not_found(f"Task id {task_id} is not mapped")
    tis = filter_tis(tis, filters)
    tis = order(tis, filters.order_by, MAPPED_ORDER, default="map_index")
    rows, total = page(tis, filters.limit, filters.offset)
    return {"task_instances": [present.task_instance(t) for t in rows], "total_entries": total}


@router.get(
    PREFIX + "/{task_id}/{signedint:map_index}",
    response={200: TaskInstanceResponse, **errors(404)},
    operation_id="get_mapped_task_instance",
)
def get_mapped_task_instance(
    request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str, map_index: DbInt
):
    require(request, Role.VIEWER)
    ti = get_ti(dag_id, dag_run_id, task_id, map_index, mapped_route=map_index >= 0)
    return present.task_instance(ti)


@router.get(
    PREFIX + "/{task_id}/{signedint:map_index}/tries",
    response={200: TaskInstanceHistoryCollectionResponse, **errors(404)},
    operation_id="get_mapped_task_instance_tries",
)
def get_mapped_task_instance_tries(
    request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str, map_index: DbInt
):
    return get_task_instance_tries(request, dag_id, dag_run_id, task_id, map_index)


@router.get(
    PREFIX + "/{task_id}/{signedint:map_index}/tries/{task_try_number}",
    response={200: TaskInstanceHistoryResponse, **errors(404)},
    operation_id="get_mapped_task_instance_try_details",
)
def get_mapped_task_instance_try_details(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: DbInt,
    task_try_number: DbInt,
):
    return get_task_instance_try_details(
        request, dag_id, dag_run_id, task_id, task_try_number, map_index
    )


@router.get(
    PREFIX + "/{task_id}/{signedint:map_index}/dependencies",
    response={200: TaskDependencyCollectionResponse, **errors(404)},
    operation_id="get_task_instance_dependencies_by_map_index",
)
def get_task_instance_dependencies_by_map_index(
    request: HttpRequest, dag_id: str, dag_run_id: str, task_id: str, map_index: DbInt
):
    return get_task_instance_dependencies(request, dag_id, dag_run_id, task_id, map_index)


@router.patch(
    PREFIX + "/{task_id}/{signedint:map_index}/dry_run",
    response=PATCH_RESPONSES,
    operation_id="patch_task_instance_dry_run_by_map_index",
)
def patch_task_instance_dry_run_by_map_index(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: DbInt,
    body: PatchTaskInstanceBody,
    mask: Query[UpdateMask],
):
    """What `PATCH …/{task_id}/{map_index}` would change, changing nothing."""
    return _patch(request, dag_id, dag_run_id, task_id, body, map_index, mask.update_mask, True)


@router.patch(
    PREFIX + "/{task_id}/{signedint:map_index}",
    response=PATCH_RESPONSES,
    operation_id="patch_task_instance_by_map_index",
)
def patch_task_instance_by_map_index(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: DbInt,
    body: PatchTaskInstanceBody,
    mask: Query[UpdateMask],
):
    """Mark one mapped instance (and optionally its relatives) and/or set its note."""
    return _patch(request, dag_id, dag_run_id, task_id, body, map_index, mask.update_mask, False)
