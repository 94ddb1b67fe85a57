"""The typed messages between the supervisor and its task process (the "comms" contract).

Every frame on the control channel (comms.py) is one of these, as JSON. The task process sends
requests (`GetXCom`, `SetXCom`, `GetVariable`, `SetVariable`, `DeleteVariable`,
`GetConnection`, `Mask`) and, once, its
`TaskResult`; the supervisor answers each request with a `Response` carrying the same `id`.
A frame that is not valid JSON or not one of these models is a protocol error naming the field.

Pure pydantic, no Django: both ends of the channel import it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

SkipDownstream = Literal["all", "direct"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Request(_Message):
    kind: Literal["request"] = "request"
    id: int


class GetXCom(_Request):
    op: Literal["get_xcom"] = "get_xcom"
    dag_id: str
    run_id: str
    task_id: str
    key: str
    map_index: int = -1


class SetXCom(_Request):
    op: Literal["set_xcom"] = "set_xcom"
    dag_id: str
    run_id: str
    task_id: str
    key: str
    map_index: int = -1
    value: Any = None
    # A mapped task expands over this value (its item count, checked against the maximum).
    mapped_length: int | None = None


class GetXComSequence(_Request):
    """A slice of all map indexes' values of a mapped task's XCom (the reduce step)."""

    op: Literal["get_xcom_sequence"] = "get_xcom_sequence"
    dag_id: str
    run_id: str
    task_id: str
    key: str
    start: int = 0
    stop: int | None = None


class GetVariable(_Request):
    op: Literal["get_variable"] = "get_variable"
    key: str


class SetVariable(_Request):
    """Create or replace a variable (Variable.set): audited by the server."""

    op: Literal["set_variable"] = "set_variable"
    key: str
    value: str
    description: str | None = None


class DeleteVariable(_Request):
    op: Literal["delete_variable"] = "delete_variable"
    key: str


class GetConnection(_Request):
    op: Literal["get_connection"] = "get_connection"
    conn_id: str


class GetAssetEvents(_Request):
    """The events of an asset (by name and/or URI) or of an alias, for `inlet_events`."""

    op: Literal["get_asset_events"] = "get_asset_events"
    name: str | None = None
    uri: str | None = None
    alias_name: str | None = None


class Mask(_Request):
    """Mask these values in the log from now on (answered once they are registered)."""

    op: Literal["mask"] = "mask"
    values: list[Any] = Field(default_factory=list)


class TaskResult(_Message):
    """The outcome of the try, sent once by the task process before it exits."""

    kind: Literal["result"] = "result"
    state: str
    fail_without_retry: bool = False
    rendered_fields: dict[str, Any] | None = None
    branch_task_ids: list[str] | None = None
    skip_downstream: SkipDownstream | None = None
    rendered_map_index: str | None = None
    # On success: the events of the task's outlets (the Execution API's OutletEventIn).
    outlet_events: list[dict[str, Any]] | None = None


class Response(_Message):
    """The supervisor's answer to request `id`: `value` when ok, else the API's status (None
    when the server was unreachable), its detail and a readable message."""

    kind: Literal["response"] = "response"
    id: int
    ok: bool
    value: Any = None
    status: int | None = None
    detail: Any = None
    message: str | None = None


Request = (
    GetXCom
    | SetXCom
    | GetXComSequence
    | GetVariable
    | SetVariable
    | DeleteVariable
    | GetConnection
    | GetAssetEvents
    | Mask
)
REQUESTS: dict[str, type[Request]] = {
    model.model_fields["op"].default: model
    for model in (
        GetXCom,
        SetXCom,
        GetXComSequence,
        GetVariable,
        SetVariable,
        DeleteVariable,
        GetConnection,
        GetAssetEvents,
        Mask,
    )
}


def _tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("op") if value.get("kind") == "request" else value.get("kind")
    return getattr(value, "op", None) or getattr(value, "kind", None)


ToSupervisor = Annotated[
    Annotated[GetXCom, Tag("get_xcom")]
    | Annotated[SetXCom, Tag("set_xcom")]
    | Annotated[GetXComSequence, Tag("get_xcom_sequence")]
    | Annotated[GetVariable, Tag("get_variable")]
    | Annotated[SetVariable, Tag("set_variable")]
    | Annotated[DeleteVariable, Tag("delete_variable")]
    | Annotated[GetConnection, Tag("get_connection")]
    | Annotated[GetAssetEvents, Tag("get_asset_events")]
    | Annotated[Mask, Tag("mask")]
    | Annotated[TaskResult, Tag("result")],
    Discriminator(_tag),
]

# Built once (at import, so in the preloading forkserver): validating a frame is then one call
# into pydantic-core, JSON parsing included.
TO_SUPERVISOR: TypeAdapter[Any] = TypeAdapter(ToSupervisor)
TO_TASK: TypeAdapter[Response] = TypeAdapter(Response)
