"""The typed messages between the supervisor and its task process (the "comms" contract).

Every frame on the control channel (comms.py) is one of these, as JSON. The task process sends
requests (`GetXCom`, `SetXCom`, `GetVariable`, `SetVariable`, `DeleteVariable`,
`GetConnection`, `GetAssetEvents`, `GetAssetByName`, `Mask`, `TriggerDagRun`, `GetDagRunState`,
`GetDag`) and, once, its
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
    after: str | None = None
    before: str | None = None
    ascending: bool = True
    limit: int | None = None


class GetAssetByName(_Request):
    """An asset by name (an ``@asset`` function's inlet parameter, as Airflow's)."""

    op: Literal["get_asset_by_name"] = "get_asset_by_name"
    name: str


class Mask(_Request):
    """Mask these values in the log from now on (answered once they are registered)."""

    op: Literal["mask"] = "mask"
    values: list[Any] = Field(default_factory=list)


class Deferral(_Message):
    """The task deferred (Airflow's DeferTask): the trigger as `serialize()` gave it and where
    to resume; kwargs JSON-encoded by dagruns/sdk/triggers/serde.py."""

    classpath: str
    trigger_kwargs: dict[str, Any] = Field(default_factory=dict)
    next_method: str
    next_kwargs: dict[str, Any] = Field(default_factory=dict)
    # Seconds the trigger may take before the task fails (None: no limit).
    trigger_timeout: float | None = None


class GetTaskRescheduleStartDate(_Request):
    """When this task instance's first reschedule since try `try_number` started (a
    reschedule-mode sensor's timeout counts from there); answered with a datetime or None."""

    op: Literal["get_task_reschedule_start_date"] = "get_task_reschedule_start_date"
    try_number: int = 1


class GetDRCount(_Request):
    """How many runs of another DAG match (ExternalTaskSensor); dates are ISO 8601."""

    op: Literal["get_dr_count"] = "get_dr_count"
    dag_id: str
    logical_dates: list[str] | None = None
    run_ids: list[str] | None = None
    states: list[str] | None = None


class GetTICount(_Request):
    """How many task instances of another DAG match (ExternalTaskSensor)."""

    op: Literal["get_ti_count"] = "get_ti_count"
    dag_id: str
    map_index: int | None = None
    task_ids: list[str] | None = None
    task_group_id: str | None = None
    logical_dates: list[str] | None = None
    run_ids: list[str] | None = None
    states: list[str] | None = None


class GetTaskStates(_Request):
    """Another DAG's task states by run (ExternalTaskSensor on a task group)."""

    op: Literal["get_task_states"] = "get_task_states"
    dag_id: str
    map_index: int | None = None
    task_ids: list[str] | None = None
    task_group_id: str | None = None
    logical_dates: list[str] | None = None
    run_ids: list[str] | None = None


class TriggerDagRun(_Request):
    """Create another DAG's run (TriggerDagRunOperator); with reset_dag_run, clear it when
    it exists. `logical_date` is ISO-8601 or None (a run without one)."""

    op: Literal["trigger_dag_run"] = "trigger_dag_run"
    dag_id: str
    run_id: str
    logical_date: str | None = None
    conf: dict[str, Any] | None = None
    reset_dag_run: bool = False


class GetDagRunState(_Request):
    op: Literal["get_dag_run_state"] = "get_dag_run_state"
    dag_id: str
    run_id: str


class GetDag(_Request):
    """Whether another DAG exists (ExternalTaskSensor's check_existence before it defers)."""

    op: Literal["get_dag"] = "get_dag"
    dag_id: str


class TaskResult(_Message):
    """The outcome of the try, sent once by the task process before it exits."""

    kind: Literal["result"] = "result"
    state: str
    fail_without_retry: bool = False
    # state "failed": the delay before the next try a retry_policy chose (None: the task's).
    retry_delay_seconds: float | None = None
    rendered_fields: dict[str, Any] | None = None
    branch_task_ids: list[str] | None = None
    skip_downstream: SkipDownstream | None = None
    # On success after DownstreamTasksSkipped (SkipMixin): the tasks to skip, as ids or
    # (task_id, map_index) pairs (Airflow 3's SkipDownstreamTasks.tasks).
    downstream_tasks_skipped: list[str | tuple[str, int]] | None = None
    rendered_map_index: str | None = None
    # On success: the events of the task's outlets (the Execution API's OutletEventIn).
    outlet_events: list[dict[str, Any]] | None = None
    # state "deferred" only.
    deferral: Deferral | None = None
    # state "up_for_reschedule": when to run the sensor again (ISO 8601, aware).
    reschedule_date: str | None = None


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
    | GetAssetByName
    | Mask
    | GetTaskRescheduleStartDate
    | GetDRCount
    | GetTICount
    | GetTaskStates
    | TriggerDagRun
    | GetDagRunState
    | GetDag
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
        GetAssetByName,
        Mask,
        GetTaskRescheduleStartDate,
        GetDRCount,
        GetTICount,
        GetTaskStates,
        TriggerDagRun,
        GetDagRunState,
        GetDag,
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
    | Annotated[GetAssetByName, Tag("get_asset_by_name")]
    | Annotated[Mask, Tag("mask")]
    | Annotated[GetTaskRescheduleStartDate, Tag("get_task_reschedule_start_date")]
    | Annotated[GetDRCount, Tag("get_dr_count")]
    | Annotated[GetTICount, Tag("get_ti_count")]
    | Annotated[GetTaskStates, Tag("get_task_states")]
    | Annotated[TriggerDagRun, Tag("trigger_dag_run")]
    | Annotated[GetDagRunState, Tag("get_dag_run_state")]
    | Annotated[GetDag, Tag("get_dag")]
    | Annotated[TaskResult, Tag("result")],
    Discriminator(_tag),
]

# Built once (at import, so in the preloading forkserver): validating a frame is then one call
# into pydantic-core, JSON parsing included.
TO_SUPERVISOR: TypeAdapter[Any] = TypeAdapter(ToSupervisor)
TO_TASK: TypeAdapter[Response] = TypeAdapter(Response)
