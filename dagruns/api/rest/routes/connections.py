"""`/connections`: full CRUD with Airflow's names. The password is write-only: no response
ever carries it (always null). Reading needs Viewer (secret-looking keys of the extra are
masked), changing needs Op."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from dagruns.actions import connection_test
from dagruns.actions import connections as actions
from dagruns.api.rest import present
from dagruns.api.rest.auth import Forbidden, actor, require
from dagruns.api.rest.errors import bad_request, conflict, not_found
from dagruns.api.rest.pagination import ListParams, UpdateMask, order, page, pattern_filter
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.config import (
    ConnectionBody,
    ConnectionCollectionResponse,
    ConnectionResponse,
    ConnectionTestResponse,
)
from dagruns.domain.roles import Role
from dagruns.models import Connection

router = Router(tags=["Connection"])

CONNECTION_ORDER = {
    "connection_id": "conn_id",
    "conn_id": "conn_id",
    "conn_type": "conn_type",
    "description": "description",
    "host": "host",
    "port": "port",
    "id": "id",
}
# API field → action field.
FIELD_NAMES = {
    "conn_type": "conn_type",
    "description": "description",
    "host": "host",
    "login": "login",
    "schema": "schema",
    "schema_": "schema",
    "port": "port",
    "password": "password",
    "extra": "extra",
}


def _fields(body: ConnectionBody, names: set[str]) -> dict:
    return {FIELD_NAMES[n]: getattr(body, "schema_" if n == "schema" else n) for n in names}


@router.get(
    "/connections",
    response={200: ConnectionCollectionResponse, **errors(400, 404)},
    by_alias=True,
    operation_id="get_connections",
)
def get_connections(
    request: HttpRequest,
    params: Query[ListParams],
    connection_id_pattern: str | None = None,
):
    require(request, Role.VIEWER)
    rows = Connection.objects.filter(
        pattern_filter("conn_id", connection_id_pattern, "connection_id_pattern")
    )
    rows = order(rows, params.order_by, CONNECTION_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    return {"connections": [present.connection(c) for c in items], "total_entries": total}


@router.post(
    "/connections/test",
    response={200: ConnectionTestResponse, **errors(400)},
    by_alias=True,
    operation_id="test_connection",
)
def test_connection(request: HttpRequest, body: ConnectionBody):
    """Run the connection's hook test in the API server (Airflow 3.0's endpoint). The stored
    connection of that id, if any, supplies the fields the body leaves out (a null password
    keeps the stored one); nothing is saved. 403 unless ORCH_TEST_CONNECTION is Enabled."""
    require(request, Role.OP)
    if connection_test.testing_mode() != "Enabled":
        raise Forbidden(connection_test.TESTING_DISABLED)
    given = {("schema" if n == "schema_" else n) for n in body.model_fields_set}
    fields = _fields(body, (given & set(FIELD_NAMES)) | {"conn_type"})
    try:
        status, message = connection_test.do_test_connection(
            body.connection_id, fields, actor(request)
        )
    except connection_test.ConnectionTestingDisabled as exc:
        raise Forbidden(str(exc)) from None
    except actions.ConnectionInvalid as exc:
        raise bad_request(str(exc)) from None
    return {"status": status, "message": message}


@router.get(
    "/connections/{connection_id}",
    response={200: ConnectionResponse, **errors(404)},
    by_alias=True,
    operation_id="get_connection",
)
def get_connection(request: HttpRequest, connection_id: str):
    require(request, Role.VIEWER)
    try:
        return present.connection(actions.get_connection(connection_id))
    except actions.ConnectionNotFound as exc:
        raise not_found(str(exc)) from None


@router.post(
    "/connections",
    response={201: ConnectionResponse, **errors(400, 409)},
    by_alias=True,
    operation_id="post_connection",
)
def post_connection(request: HttpRequest, body: ConnectionBody):
    require(request, Role.OP)
    fields = _fields(body, set(FIELD_NAMES) - {"schema_"})
    try:
        conn = actions.do_create_connection(body.connection_id, fields, actor(request))
    except actions.ConnectionExists as exc:
        raise conflict(str(exc)) from None
    except actions.ConnectionInvalid as exc:
        raise bad_request(str(exc)) from None
    return Status(201, present.connection(conn))


@router.patch(
    "/connections/{connection_id}",
    response={200: ConnectionResponse, **errors(400, 404)},
    by_alias=True,
    operation_id="patch_connection",
)
def patch_connection(
    request: HttpRequest,
    connection_id: str,
    body: ConnectionBody,
    mask: Query[UpdateMask],
):
    """Update the fields named in `update_mask` (default: every field the body sets). A null
    or absent password keeps the stored one."""
    require(request, Role.OP)
    if body.connection_id != connection_id:
        raise bad_request("The connection_id in the request body does not match the URL parameter")
    allowed = set(FIELD_NAMES) - {"schema_"}
    if mask.update_mask:
        unknown = set(mask.update_mask) - allowed - {"connection_id"}
        if unknown:
            raise bad_request(f"Invalid fields in update_mask: {', '.join(sorted(unknown))}")
        names = set(mask.update_mask) & allowed
    else:
        names = {("schema" if n == "schema_" else n) for n in body.model_fields_set} & allowed
        names.add("conn_type")
    try:
        conn = actions.do_update_connection(connection_id, _fields(body, names), actor(request))
    except actions.ConnectionNotFound as exc:
        raise not_found(str(exc)) from None
    except actions.ConnectionInvalid as exc:
        raise bad_request(str(exc)) from None
    return present.connection(conn)


@router.delete(
    "/connections/{connection_id}",
    response={204: None, **errors(404)},
    operation_id="delete_connection",
)
def delete_connection(request: HttpRequest, connection_id: str):
    require(request, Role.OP)
    try:
        actions.do_delete_connection(connection_id, actor(request))
    except actions.ConnectionNotFound as exc:
        raise not_found(str(exc)) from None
    return Status(204, None)
