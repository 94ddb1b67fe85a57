"""`/backfills` (Airflow's routes/public/backfills.py): create, dry run, list by DAG, get,
pause, unpause, cancel. Reading needs Viewer, the rest User (who may trigger runs).

Status codes are Airflow's: an unknown DAG 404, a DAG with an active backfill 409, a
backfill already completed 409, and a request Airflow's checks refuse 422 with the reason as
`detail`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import ValidationError

from dagruns.actions import backfills as actions
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import conflict, not_found, validation_error
from dagruns.api.rest.pagination import ListParams, order, page
from dagruns.api.rest.schemas.backfills import (
    BackfillCollectionResponse,
    BackfillPostBody,
    BackfillResponse,
    DryRunBackfillCollectionResponse,
)
from dagruns.api.rest.schemas.common import DbInt, errors
from dagruns.domain.roles import Role
from dagruns.models import Backfill

router = Router(tags=["Backfill"])

BACKFILL_ORDER = {"id": "id"}


def present(backfill: Backfill) -> dict[str, Any]:
    return {
        "id": backfill.pk,
        "dag_id": backfill.dag_id,
        "from_date": backfill.from_date,
        "to_date": backfill.to_date,
        "dag_run_conf": backfill.dag_run_conf or {},
        "is_paused": backfill.is_paused,
        "reprocess_behavior": backfill.reprocess_behavior,
        "max_active_runs": backfill.max_active_runs,
        "created_at": backfill.created_at,
        "completed_at": backfill.completed_at,
        "updated_at": backfill.updated_at,
        "dag_display_name": backfill.dag.dag_display_name or backfill.dag_id,
    }


def _request(body: BackfillPostBody) -> actions.BackfillRequest:
    return actions.BackfillRequest(
        dag_id=body.dag_id,
        from_date=body.from_date,
        to_date=body.to_date,
        run_backwards=body.run_backwards,
        dag_run_conf=body.dag_run_conf,
        reprocess_behavior=body.reprocess_behavior.value,
        max_active_runs=body.max_active_runs,
    )


def _refused(exc: actions.BackfillRefused) -> ValidationError:
    # Airflow answers these with a 422 (RequestValidationError); in FastAPI's list shape, as
    # the document describes every 422.
    return validation_error(["body"], str(exc))


@router.get(
    "/backfills",
    response={200: BackfillCollectionResponse, **errors(400)},
    operation_id="list_backfills",
)
def list_backfills(request: HttpRequest, dag_id: str, params: Query[ListParams]):
    require(request, Role.VIEWER)
    rows = Backfill.objects.filter(dag_id=dag_id).select_related("dag")
    rows = order(rows, params.order_by, BACKFILL_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    return {"backfills": [present(b) for b in items], "total_entries": total}


@router.post(
    "/backfills",
    response={200: BackfillResponse, **errors(404, 409, 422)},
    operation_id="create_backfill",
)
def create_backfill(request: HttpRequest, body: BackfillPostBody):
    require(request, Role.USER)
    try:
        backfill = actions.do_create_backfill(_request(body), actor(request))
    except actions.AlreadyRunningBackfill:
        raise conflict(f"There is already a running backfill for dag {body.dag_id}") from None
    except actions.BackfillRefused as exc:
        raise _refused(exc) from None
    return present(actions.get_backfill_or_raise(backfill.pk))


@router.post(
    "/backfills/dry_run",
    response={200: DryRunBackfillCollectionResponse, **errors(404, 422)},
    operation_id="create_backfill_dry_run",
)
def create_backfill_dry_run(request: HttpRequest, body: BackfillPostBody):
    require(request, Role.USER)
    try:
        plan = actions.do_dry_run_backfill(_request(body))
    except actions.BackfillRefused as exc:
        raise _refused(exc) from None
    # Airflow's answer lists the dates that would get a run (made or re-made).
    dates = [{"logical_date": r.logical_date} for r in plan.runs if r.will_run]
    return {"backfills": dates, "total_entries": len(dates)}


@router.get(
    "/backfills/{backfill_id}",
    response={200: BackfillResponse, **errors(404)},
    operation_id="get_backfill",
)
def get_backfill(request: HttpRequest, backfill_id: DbInt):
    require(request, Role.VIEWER)
    try:
        return present(actions.get_backfill_or_raise(backfill_id))
    except actions.BackfillNotFound:
        raise not_found("Backfill not found") from None


def _change(request: HttpRequest, backfill_id: int, action) -> dict[str, Any]:
    require(request, Role.USER)
    try:
        action(backfill_id, actor(request))
    except actions.BackfillNotFound as exc:
        raise not_found(str(exc)) from None
    except actions.BackfillCompleted as exc:
        raise conflict(str(exc)) from None
    return present(actions.get_backfill_or_raise(backfill_id))


@router.put(
    "/backfills/{backfill_id}/pause",
    response={200: BackfillResponse, **errors(404, 409)},
    operation_id="pause_backfill",
)
def pause_backfill(request: HttpRequest, backfill_id: DbInt):
    return _change(request, backfill_id, actions.do_pause_backfill)


@router.put(
    "/backfills/{backfill_id}/unpause",
    response={200: BackfillResponse, **errors(404, 409)},
    operation_id="unpause_backfill",
)
def unpause_backfill(request: HttpRequest, backfill_id: DbInt):
    return _change(request, backfill_id, actions.do_unpause_backfill)


@router.put(
    "/backfills/{backfill_id}/cancel",
    response={200: BackfillResponse, **errors(404, 409)},
    operation_id="cancel_backfill",
)
def cancel_backfill(request: HttpRequest, backfill_id: DbInt):
    return _change(request, backfill_id, actions.do_cancel_backfill)
