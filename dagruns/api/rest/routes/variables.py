"""`/variables`: full CRUD with Airflow's names. Reading needs the Viewer role (values of
secret-looking keys are masked, as Airflow's API masks them); changing needs Op."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from dagruns.actions import variables as actions
from dagruns.api.rest import present
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import bad_request, conflict, not_found
from dagruns.api.rest.pagination import ListParams, UpdateMask, order, page, pattern_filter
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.config import (
    VariableBody,
    VariableCollectionResponse,
    VariableResponse,
)
from dagruns.domain.roles import Role
from dagruns.models import Variable

router = Router(tags=["Variable"])

VARIABLE_ORDER = {"key": "key", "id": "id", "description": "description"}
PATCHABLE = {"value", "description"}


def _get(key: str) -> Variable:
    try:
        return actions.get_variable(key)
    except actions.VariableNotFound as exc:
        raise not_found(str(exc)) from None


@router.get(
    "/variables",
    response={200: VariableCollectionResponse, **errors(400)},
    operation_id="get_variables",
)
def get_variables(
    request: HttpRequest,
    params: Query[ListParams],
    variable_key_pattern: str | None = None,
):
    require(request, Role.VIEWER)
    rows = Variable.objects.filter(
        pattern_filter("key", variable_key_pattern, "variable_key_pattern")
    )
    rows = order(rows, params.order_by, VARIABLE_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    return {"variables": [present.variable(v) for v in items], "total_entries": total}


@router.get(
    "/variables/{anypath:variable_key}",
    response={200: VariableResponse, **errors(404)},
    operation_id="get_variable",
)
def get_variable(request: HttpRequest, variable_key: str):
    require(request, Role.VIEWER)
    return present.variable(_get(variable_key))


@router.post(
    "/variables", response={201: VariableResponse, **errors(400, 409)}, operation_id="post_variable"
)
def post_variable(request: HttpRequest, body: VariableBody):
    require(request, Role.OP)
    try:
        var = actions.do_create_variable(
            body.key, body.value, actor(request), description=body.description
        )
    except actions.VariableExists as exc:
        raise conflict(str(exc)) from None
    except actions.VariableError as exc:
        raise bad_request(str(exc)) from None
    return Status(201, present.variable(var))


@router.patch(
    "/variables/{anypath:variable_key}",
    response={200: VariableResponse, **errors(400, 404)},
    operation_id="patch_variable",
)
def patch_variable(
    request: HttpRequest,
    variable_key: str,
    body: VariableBody,
    mask: Query[UpdateMask],
):
    """Update a variable's value and/or description (`update_mask` names which)."""
    require(request, Role.OP)
    if body.key != variable_key:
        raise bad_request("Invalid body, key from request body doesn't match uri parameter")
    _get(variable_key)
    fields = set(mask.update_mask) if mask.update_mask else set(body.model_fields_set) & PATCHABLE
    unknown = fields - PATCHABLE - {"key"}
    if unknown:
        raise bad_request(f"Invalid fields in update_mask: {', '.join(sorted(unknown))}")
    changes = {name: getattr(body, name) for name in fields & PATCHABLE}
    try:
        var = actions.do_update_variable(variable_key, actor(request), **changes)
    except actions.VariableError as exc:
        raise bad_request(str(exc)) from None
    return present.variable(var)


@router.delete(
    "/variables/{anypath:variable_key}",
    response={204: None, **errors(404)},
    operation_id="delete_variable",
)
def delete_variable(request: HttpRequest, variable_key: str):
    require(request, Role.OP)
    try:
        actions.do_delete_variable(variable_key, actor(request))
    except actions.VariableNotFound as exc:
        raise not_found(str(exc)) from None
    return Status(204, None)
