"""`/dags/{dag_id}/dagRuns…`: list (also across DAGs with `~`), get, trigger, patch, delete,
clear, and the batch list `POST /dags/~/dagRuns/list`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.actions.task_instances import (
    do_clear_run,
    do_delete_run,
    do_set_run_state,
)
from dagruns.api.rest import present
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import bad_request, conflict, not_found
from dagruns.api.rest.pagination import UpdateMask, order, page, range_filter
from dagruns.api.rest.query_values import check_choices
from dagruns.api.rest.schemas.common import (
    DagRunState,
    DagRunType,
    TimeRangeFilters,
    UtcDatetime,
    errors,
)
from dagruns.api.rest.schemas.dag_runs import (
    RUN_PATCH_STATES,
    DAGRunClearBody,
    DAGRunCollectionResponse,
    DAGRunPatchBody,
    DAGRunResponse,
    DAGRunsBatchBody,
    TriggerDAGRunPostBody,
)
from dagruns.api.rest.schemas.task_instances import TaskInstanceCollectionResponse
from dagruns.domain.roles import Role
from dagruns.models import DagModel, DagRun, DagRunTriggeredBy, TaskInstance

router = Router(tags=["DagRun"])

RUN_ORDER = {
    "id": "id",
    "state": "state",
    "dag_id": "dag_id",
    "run_id": "run_id",
    "dag_run_id": "run_id",
    "logical_date": "logical_date",
    "run_after": "run_after",
    "start_date": "start_date",
    "end_date": "end_date",
    "updated_at": "updated_at",
    "queued_at": "queued_at",
    "duration": "duration",
}


def runs_queryset():
    return (
        present.with_dag_display_name(DagRun.objects.select_related("dag_version"))
        .defer("dag_version__serialized", "dag_version__source_code")
        .annotate(
            duration=ExpressionWrapper(
                F("end_date") - F("start_date"), output_field=DurationField()
            )
        )
    )


def _duration_filter(**bounds: float | None) -> Q:
    return range_filter(
        "duration",
        **{op: timedelta(seconds=v) for op, v in bounds.items() if v is not None},
    )


class RunFilters(TimeRangeFilters):
    limit: int = Field(50, ge=0)
    offset: int = Field(0, ge=0)
    updated_at_gte: UtcDatetime | None = None
    updated_at_gt: UtcDatetime | None = None
    updated_at_lte: UtcDatetime | None = None
    updated_at_lt: UtcDatetime | None = None
    run_type: list[str] = Field(default_factory=list)
    state: list[str] = Field(default_factory=list)
    order_by: list[str] = Field(default_factory=list)


def date_filters(source: Any, fields: tuple[str, ...]) -> Q:
    q = Q()
    for name in fields:
        q &= range_filter(
            name,
            gte=getattr(source, f"{name}_gte", None),
            gt=getattr(source, f"{name}_gt", None),
            lte=getattr(source, f"{name}_lte", None),
            lt=getattr(source, f"{name}_lt", None),
        )
    return q


@router.get(
    "/dags/{dag_id}/dagRuns",
    response={200: DAGRunCollectionResponse, **errors(400, 404)},
    operation_id="get_dag_runs",
)
def get_dag_runs(request: HttpRequest, dag_id: str, filters: Query[RunFilters]):
    """List a DAG's runs; `~` as dag_id lists the runs of every DAG."""
    require(request, Role.VIEWER)
    runs = runs_queryset()
    if dag_id != "~":
        get_dag_or_raise(dag_id)
        runs = runs.filter(dag_id=dag_id)
    runs = runs.filter(
        date_filters(
            filters, ("run_after", "logical_date", "start_date", "end_date", "updated_at")
        ),
        _duration_filter(
            gte=filters.duration_gte,
            gt=filters.duration_gt,
            lte=filters.duration_lte,
            lt=filters.duration_lt,
        ),
    )
    check_choices("state", filters.state, DagRunState)
    check_choices("run_type", filters.run_type, DagRunType)
    if filters.state:
        runs = runs.filter(state__in=filters.state)
    if filters.run_type:
        runs = runs.filter(run_type__in=filters.run_type)
    runs = order(runs, filters.order_by, RUN_ORDER, default="id")
    rows, total = page(runs, filters.limit, filters.offset)
    return {"dag_runs": [present.dag_run(r) for r in rows], "total_entries": total}


@router.post(
    "/dags/{dag_id}/dagRuns/list",
    response={200: DAGRunCollectionResponse, **errors(400, 404)},
    operation_id="get_list_dag_runs_batch",
)
def get_list_dag_runs_batch(request: HttpRequest, dag_id: Literal["~"], body: DAGRunsBatchBody):
    """Runs across DAGs, filtered by a JSON body (only `~` as dag_id, as in Airflow)."""
    require(request, Role.VIEWER)
    runs = runs_queryset()
    if body.dag_ids:
        runs = runs.filter(dag_id__in=body.dag_ids)
    if body.states:
        wanted = Q(state__in=[s for s in body.states if s is not None])
        if None in body.states:
            wanted |= Q(state__isnull=True)
        runs = runs.filter(wanted)
    runs = runs.filter(
        date_filters(body, ("run_after", "logical_date", "start_date", "end_date")),
        _duration_filter(
            gte=body.duration_gte, gt=body.duration_gt, lte=body.duration_lte, lt=body.duration_lt
        ),
    )
    if body.conf_contains:
        runs = runs.filter(conf__icontains=body.conf_contains)
    runs = order(runs, [body.order_by] if body.order_by else None, RUN_ORDER, default="id")
    rows, total = page(runs, body.page_limit, body.page_offset)
    return {"dag_runs": [present.dag_run(r) for r in rows], "total_entries": total}


def _get_run(dag_id: str, run_id: str) -> DagRun:
    run = runs_queryset().filter(dag_id=dag_id, run_id=run_id).first()
    if run is None:
        raise not_found(f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found")
    return run


@router.get(
    "/dags/{dag_id}/dagRuns/{dag_run_id}",
    response={200: DAGRunResponse, **errors(404)},
    operation_id="get_dag_run",
)
def get_dag_run(request: HttpRequest, dag_id: str, dag_run_id: str):
    require(request, Role.VIEWER)
    return present.dag_run(_get_run(dag_id, dag_run_id))


@router.post(
    "/dags/{dag_id}/dagRuns",
    response={200: DAGRunResponse, **errors(400, 404, 409)},
    operation_id="trigger_dag_run",
)
def trigger_dag_run(request: HttpRequest, dag_id: str, body: TriggerDAGRunPostBody):
    """Trigger a DAG. A paused DAG may be triggered (the run waits until it is unpaused), as
    Airflow allows. Without `logical_date` the run has none, as in Airflow 3."""
    require(request, Role.USER)
    dag = DagModel.objects.filter(dag_id=dag_id, is_active=True).first()
    if dag is None:
        raise not_found(f"DAG with dag_id: '{dag_id}' not found")
    if dag.has_import_errors:
        raise bad_request(f"DAG with dag_id: '{dag_id}' has import errors and cannot be triggered")
    if body.dag_run_id is not None and not body.dag_run_id.strip():
        raise bad_request("dag_run_id must not be empty")
    try:
        run = do_trigger_dag(
            dag_id,
            actor(request),
            conf=body.conf,
            run_id=body.dag_run_id,
            logical_date=body.logical_date,
            use_now_as_logical_date=False,
            note=body.note or "",
            triggered_by=DagRunTriggeredBy.REST_API,
        )
    except TriggerError as exc:
        if _run_exists(dag_id, body):
            raise conflict(str(exc)) from None
        raise bad_request(str(exc)) from None
    return present.dag_run(_get_run(dag_id, run.run_id))


def _run_exists(dag_id: str, body: TriggerDAGRunPostBody) -> bool:
    same = Q()
    if body.dag_run_id:
        same |= Q(run_id=body.dag_run_id)
    if body.logical_date:
        same |= Q(logical_date=body.logical_date)
    return bool(same) and DagRun.objects.filter(same, dag_id=dag_id).exists()


@router.patch(
    "/dags/{dag_id}/dagRuns/{dag_run_id}",
    response={200: DAGRunResponse, **errors(400, 404)},
    operation_id="patch_dag_run",
)
def patch_dag_run(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    body: DAGRunPatchBody,
    mask: Query[UpdateMask],
):
    """Set a run's state (queued, success or failed) and/or its note."""
    require(request, Role.USER)
    _get_run(dag_id, dag_run_id)
    fields = set(body.model_fields_set)
    if mask.update_mask:
        unknown = set(mask.update_mask) - {"state", "note"}
        if unknown:
            raise bad_request(f"Invalid fields in update_mask: {', '.join(sorted(unknown))}")
        fields &= set(mask.update_mask)
    state = body.state if "state" in fields else None
    if "state" in fields and state is None:
        raise bad_request(
            f"'None' is not a state a DAG run can be set to: use one of {', '.join(RUN_PATCH_STATES)}"
        )
    note = (body.note or "") if "note" in fields else None
    if state is not None or note is not None:
        # State and note in one transaction: both land or neither does.
        do_set_run_state(dag_id, dag_run_id, state, actor(request), note=note)
    return present.dag_run(_get_run(dag_id, dag_run_id))


@router.delete(
    "/dags/{dag_id}/dagRuns/{dag_run_id}",
    response={204: None, **errors(400, 404)},
    operation_id="delete_dag_run",
)
def delete_dag_run(request: HttpRequest, dag_id: str, dag_run_id: str):
    require(request, Role.USER)
    _get_run(dag_id, dag_run_id)
    do_delete_run(dag_id, dag_run_id, actor(request))
    return Status(204, None)


@router.post(
    "/dags/{dag_id}/dagRuns/{dag_run_id}/clear",
    response={200: TaskInstanceCollectionResponse | DAGRunResponse, **errors(404)},
    operation_id="clear_dag_run",
)
def clear_dag_run(request: HttpRequest, dag_id: str, dag_run_id: str, body: DAGRunClearBody):
    """Clear a run's task instances (all, or only failed ones). `dry_run` (the default, as in
    Airflow) lists what would be cleared; otherwise the cleared run is returned."""
    require(request, Role.USER)
    _get_run(dag_id, dag_run_id)
    tis = do_clear_run(
        dag_id,
        dag_run_id,
        actor(request),
        only_failed=body.only_failed,
        dry_run=body.dry_run,
        note=body.note,
    )
    if body.dry_run:
        rows = list(_ti_queryset().filter(pk__in=[t.pk for t in tis]))
        rows.sort(key=lambda ti: (ti.task_id, ti.map_index))
        return {
            "task_instances": [present.task_instance(ti) for ti in rows],
            "total_entries": len(rows),
        }
    return present.dag_run(_get_run(dag_id, dag_run_id))


def _ti_queryset():
    return present.with_dag_display_name(
        TaskInstance.objects.select_related("dag_run", "dag_version", "trigger").defer(
            "dag_version__serialized", "dag_version__source_code", "dag_run__conf"
        )
    )


# A run whose id is literally "list" shares its URL with the batch list above (Django matches
# URLs, not URL+method, as FastAPI does): these hidden operations give it back GET, PATCH and
# DELETE.
@router.get(
    "/dags/{dag_id}/dagRuns/list",
    response={200: DAGRunResponse, **errors(404)},
    include_in_schema=False,
)
def get_dag_run_named_list(request: HttpRequest, dag_id: str):
    return get_dag_run(request, dag_id, "list")


@router.patch(
    "/dags/{dag_id}/dagRuns/list",
    response={200: DAGRunResponse, **errors(400, 404)},
    include_in_schema=False,
)
def patch_dag_run_named_list(
    request: HttpRequest, dag_id: str, body: DAGRunPatchBody, mask: Query[UpdateMask]
):
    return patch_dag_run(request, dag_id, "list", body, mask)


@router.delete(
    "/dags/{dag_id}/dagRuns/list",
    response={204: None, **errors(400, 404)},
    include_in_schema=False,
)
def delete_dag_run_named_list(request: HttpRequest, dag_id: str):
    return delete_dag_run(request, dag_id, "list")
