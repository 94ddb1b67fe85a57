"""`/execution/variables/{key}` and `/execution/connections/{conn_id}`, decrypted for the
running task (and only for a running try: see Caller.require_running).

A task also writes variables (`Variable.set` / `Variable.delete`): PUT and DELETE go through
the same actions as the REST API and the CLI, audited with the task instance as the actor."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest
from ninja import Router, Status

from dagruns.actions import variables
from dagruns.actions.audit import Actor
from dagruns.api.execution.auth import ApiError, Caller, caller_of
from dagruns.api.execution.schemas import (
    ConnectionOut,
    ErrorOut,
    VariableOut,
    VariablePutIn,
    VariableSetOut,
)
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


def _task_actor(caller: Caller) -> tuple[Actor, dict]:
    """The audit row's actor and fields: which try of which task wrote the variable."""
    ti = caller.ti
    fields = {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number,
    }
    return Actor(name=f"task:{ti.dag_id}.{ti.task_id}"), fields


@router.put(
    "/variables/{path:key}",
    response={201: VariableSetOut, 422: ErrorOut, **ERRORS},
    tags=["variables"],
)
def put_variable(request: HttpRequest, key: str, body: VariablePutIn):
    """Create or replace a variable (Airflow's PUT); the description is kept unless given."""
    caller = caller_of(request)
    caller.require_running()
    actor, fields = _task_actor(caller)
    description = variables.UNSET if body.description is None else body.description
    try:
        variables.do_set_variable(
            key, body.value, actor, description=description, audit_fields=fields
        )
    except variables.VariableError as exc:
        raise ApiError(422, f"variable {key!r}: {exc}") from None
    return Status(201, {"message": "Variable successfully set"})


@router.delete("/variables/{path:key}", response={204: None, **ERRORS}, tags=["variables"])
def delete_variable(request: HttpRequest, key: str):
    """Delete a variable; a key that does not exist is not an error (as in Airflow)."""
    caller = caller_of(request)
    caller.require_running()
    actor, fields = _task_actor(caller)
    with contextlib.suppress(variables.VariableNotFound):
        variables.do_delete_variable(key, actor, audit_fields=fields)
    return Status(204, None)


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
