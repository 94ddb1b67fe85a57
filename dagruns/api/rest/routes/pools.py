"""`/pools`: full CRUD with Airflow's names and slot counts. Reading needs Viewer, changing
needs Op. The default pool cannot be deleted, renamed or re-described."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from dagruns.actions import pools as actions
from dagruns.api.rest import present
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import bad_request, conflict, not_found
from dagruns.api.rest.pagination import ListParams, UpdateMask, order, page, pattern_filter
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.config import (
    PoolBody,
    PoolCollectionResponse,
    PoolPatchBody,
    PoolResponse,
)
from dagruns.domain.roles import Role
from dagruns.models import Pool

router = Router(tags=["Pool"])

POOL_ORDER = {"id": "id", "pool": "name", "name": "name", "slots": "slots"}
PATCHABLE = {"pool", "name", "slots", "description", "include_deferred"}


def _one(pool: Pool) -> dict[str, Any]:
    return present.pool(pool, actions.usage([pool.name]).get(pool.name, {}))


@router.get(
    "/pools", response={200: PoolCollectionResponse, **errors(400, 404)}, operation_id="get_pools"
)
def get_pools(
    request: HttpRequest,
    params: Query[ListParams],
    pool_name_pattern: str | None = None,
):
    require(request, Role.VIEWER)
    rows = Pool.objects.filter(pattern_filter("name", pool_name_pattern, "pool_name_pattern"))
    rows = order(rows, params.order_by, POOL_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    used = actions.usage([p.name for p in items])
    return {"pools": [present.pool(p, used.get(p.name, {})) for p in items], "total_entries": total}


@router.get(
    "/pools/{pool_name}", response={200: PoolResponse, **errors(404)}, operation_id="get_pool"
)
def get_pool(request: HttpRequest, pool_name: str):
    require(request, Role.VIEWER)
    try:
        return _one(actions.get_pool(pool_name))
    except actions.PoolNotFound as exc:
        raise not_found(str(exc)) from None


@router.post("/pools", response={201: PoolResponse, **errors(400, 409)}, operation_id="post_pool")
def post_pool(request: HttpRequest, body: PoolBody):
    require(request, Role.OP)
    try:
        pool = actions.do_create_pool(
            body.name,
            body.slots,
            actor(request),
            description=body.description,
            include_deferred=body.include_deferred,
        )
    except actions.PoolExists as exc:
        raise conflict(str(exc)) from None
    except actions.PoolInvalid as exc:
        raise bad_request(str(exc)) from None
    return Status(201, _one(pool))


@router.patch(
    "/pools/{pool_name}",
    response={200: PoolResponse, **errors(400, 404, 409)},
    operation_id="patch_pool",
)
def patch_pool(
    request: HttpRequest,
    pool_name: str,
    body: PoolPatchBody,
    mask: Query[UpdateMask],
):
    """Update the fields named in `update_mask` (default: every field the body sets); `pool`
    renames."""
    require(request, Role.OP)
    if mask.update_mask:
        unknown = set(mask.update_mask) - PATCHABLE
        if unknown:
            raise bad_request(f"Invalid fields in update_mask: {', '.join(sorted(unknown))}")
        names = set(mask.update_mask)
    else:
        names = set(body.model_fields_set) & PATCHABLE
    changes: dict[str, Any] = {}
    if names & {"pool", "name"} and body.pool is not None:
        changes["new_name"] = body.pool
    for name in ("slots", "include_deferred"):
        if name in names:
            value = getattr(body, name)
            if value is None:
                raise bad_request(f"{name} may not be null")
            changes[name] = value
    if "description" in names:
        changes["description"] = body.description
    try:
        pool = actions.do_update_pool(pool_name, actor(request), **changes)
    except actions.PoolNotFound as exc:
        raise not_found(str(exc)) from None
    except actions.PoolExists as exc:
        raise conflict(str(exc)) from None
    except actions.PoolInvalid as exc:
        raise bad_request(str(exc)) from None
    return _one(pool)


@router.delete(
    "/pools/{pool_name}", response={204: None, **errors(400, 404)}, operation_id="delete_pool"
)
def delete_pool(request: HttpRequest, pool_name: str):
    require(request, Role.OP)
    try:
        actions.do_delete_pool(pool_name, actor(request))
    except actions.PoolNotFound as exc:
        raise not_found(str(exc)) from None
    except actions.PoolInvalid as exc:
        raise bad_request(str(exc)) from None
    return Status(204, None)
