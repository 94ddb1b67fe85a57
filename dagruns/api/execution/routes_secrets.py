"""`/execution/variables/{key}` and `/execution/connections/{conn_id}`, decrypted for the
running task (and only for a running try: see Caller.require_running)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from dagruns.api.execution.auth import ApiError, caller_of
from dagruns.api.execution.schemas import ConnectionOut, ErrorOut, VariableOut
from dagruns.models import Connection, Variable

router = Router()

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _not_found(message: str) -> ApiError:
    return ApiError(404, {"reason": "not_found", "message": message})


@router.get("/variables/{path:key}", response={200: VariableOut, **ERRORS}, tags=["variables"])
def get_variable(request: HttpRequest, key: str):
    caller_of(request).require_running()
    variable = Variable.objects.filter(key=key).first()
    if variable is None:
        raise _not_found(f"Variable with key {key!r} not found")
    return {"key": variable.key, "value": variable.val}


@router.get(
    "/connections/{path:conn_id}",
    response={200: ConnectionOut, **ERRORS},
    by_alias=True,
    tags=["connections"],
)
def get_connection(request: HttpRequest, conn_id: str):
    caller_of(request).require_running()
    conn = Connection.objects.filter(conn_id=conn_id).first()
    if conn is None:
        raise _not_found(f"Connection with id {conn_id!r} not found")
    # Empty text fields are "not set", as Airflow's API returns them (null).
    return {
        "conn_id": conn.conn_id,
        "conn_type": conn.conn_type,
        "host": conn.host or None,
        "schema": conn.schema or None,
        "login": conn.login or None,
        "password": conn.password or None,
        "port": conn.port,
        "extra": conn.extra or None,
    }
