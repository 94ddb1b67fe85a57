"""`/execution/xcoms/{dag_id}/{run_id}/{task_id}/{key}`: read XComs of the own run, write the
own task's."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from dagruns.actions import xcoms
from dagruns.api.execution.auth import ApiError, Caller, Forbidden, caller_of
from dagruns.api.execution.schemas import ErrorOut, XComOut, XComSequenceOut, XComSetOut

router = Router(tags=["xcoms"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}
PATH = "/{dag_id}/{run_id}/{task_id}/{path:key}"

# The body is parsed here rather than by a schema so that a value that is not JSON gets a
# 422 naming the problem (ninja answers a body it cannot parse with a bare 400).
SET_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"value": {"description": "any JSON value"}},
                    "required": ["value"],
                }
            }
        },
    }
}


def _own_run(caller: Caller, dag_id: str, run_id: str) -> None:
    caller.require_running()
    if dag_id != caller.ti.dag_id or run_id != caller.ti.run_id:
        raise Forbidden("a task may only read XComs of its own DAG run")


# The reduce step's LazyXComSequence: a slice of all instances' values of a mapped task.
# Registered before PATH, whose `{path:key}` would otherwise swallow the suffix.
@router.get(
    "/{dag_id}/{run_id}/{task_id}/{path:key}/-/sequence", response={200: XComSequenceOut, **ERRORS}
)
def get_xcom_sequence(
    request: HttpRequest,
    dag_id: str,
    run_id: str,
    task_id: str,
    key: str,
    start: int = 0,
    stop: int | None = None,
):
    caller = caller_of(request)
    _own_run(caller, dag_id, run_id)
    if start < 0 or (stop is not None and stop < start):
        raise ApiError(422, f"bad slice start={start} stop={stop}")
    length, values = xcoms.mapped_xcoms(caller.ti.dag_run, task_id, key, start, stop)
    return {"length": length, "values": values}


@router.get(PATH, response={200: XComOut, **ERRORS})
def get_xcom(
    request: HttpRequest, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1
):
    caller = caller_of(request)
    _own_run(caller, dag_id, run_id)
    try:
        xcom = xcoms.get_xcom(caller.ti.dag_run, task_id, key, map_index)
    except xcoms.XComNotFound as exc:
        raise ApiError(404, {"reason": "not_found", "message": str(exc)}) from None
    return {"key": xcom.key, "value": xcom.value}


@router.post(PATH, response={201: XComSetOut, **ERRORS}, openapi_extra=SET_BODY)
def set_xcom(
    request: HttpRequest,
    dag_id: str,
    run_id: str,
    task_id: str,
    key: str,
    map_index: int = -1,
    mapped_length: int | None = None,
):
    """`mapped_length`: the runner says a mapped task expands over this value, which has this
    many items; over ORCH_MAX_MAP_LENGTH it is refused (422) and the pushing task fails."""
    caller = caller_of(request)
    _own_run(caller, dag_id, run_id)
    if task_id != caller.ti.task_id or map_index != caller.ti.map_index:
        raise Forbidden("a task may only write its own XComs")
    try:
        body = xcoms.parse_json(request.body)
    except xcoms.XComNotJson as exc:
        raise ApiError(422, f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict) or "value" not in body:
        raise ApiError(422, 'the request body must be a JSON object {"value": <json>}')
    try:
        if mapped_length is not None:
            xcoms.check_mapped_length(mapped_length)
        xcoms.do_set_xcom(caller.ti.dag_run, task_id, key, body["value"], map_index)
    except xcoms.UnmappableLength as exc:
        raise ApiError(422, str(exc)) from None
    except xcoms.XComTooLarge as exc:
        raise ApiError(413, str(exc)) from None
    except xcoms.XComNotJson as exc:
        raise ApiError(422, str(exc)) from None
    return Status(201, {"message": "XCom successfully set"})
