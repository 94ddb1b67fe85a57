"""Task instances, their tries, dependencies and logs (Airflow's datamodels/task_instances.py,
task_instance_history.py and log.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from dagruns.actions.task_instances import MARKABLE_STATES
from dagruns.api.rest.schemas.common import (
    BodyTimeRangeFilters,
    DagVersionResponse,
    JsonInt,
    StrictBody,
    TaskInstanceState,
    UtcDatetime,
)

# As for DAG run states: documented as Airflow's enum, answered with a 400 when outside it.
# The states a PATCH may set, as the mark action accepts them.
TI_PATCH_STATES = tuple(s.value for s in MARKABLE_STATES)


class TaskInstanceHistoryResponse(BaseModel):
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    state: TaskInstanceState | None = None
    try_number: int
    max_tries: int
    task_display_name: str
    dag_display_name: str
    hostname: str | None = None
    unixname: str | None = None
    pool: str
    pool_slots: int
    queue: str | None = None
    priority_weight: int | None = None
    operator: str | None = None
    operator_name: str | None = None
    queued_when: datetime | None = None
    scheduled_when: datetime | None = None
    pid: int | None = None
    executor: str | None = None
    executor_config: str
    dag_version: DagVersionResponse | None = None


class TaskInstanceResponse(TaskInstanceHistoryResponse):
    id: UUID
    logical_date: datetime | None = None
    run_after: datetime
    note: str | None = None
    rendered_map_index: str | None = None
    rendered_fields: dict[str, Any] = Field(default_factory=dict)
    # A deferred task's trigger (Airflow's TriggerResponse: id, classpath, kwargs as text,
    # created_date, triggerer_id). triggerer_job stays null: the triggerer holding it is
    # trigger.triggerer_id (its Job row is not read for every row of a page).
    trigger: dict[str, Any] | None = None
    triggerer_job: dict[str, Any] | None = None


class TaskInstanceCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int


class TaskInstanceHistoryCollectionResponse(BaseModel):
    task_instances: list[TaskInstanceHistoryResponse]
    total_entries: int


class TaskDependencyResponse(BaseModel):
    name: str
    reason: str


class TaskDependencyCollectionResponse(BaseModel):
    dependencies: list[TaskDependencyResponse]


class PatchTaskInstanceBody(StrictBody):
    new_state: str | None = Field(None, json_schema_extra={"enum": list(TI_PATCH_STATES)})
    note: str | None = Field(None, max_length=1000)
    include_upstream: StrictBool = False
    include_downstream: StrictBool = False
    include_future: StrictBool = False
    include_past: StrictBool = False


class ClearTaskInstancesBody(StrictBody):
    dry_run: StrictBool = True
    start_date: UtcDatetime | None = None
    end_date: UtcDatetime | None = None
    only_failed: StrictBool = True
    only_running: StrictBool = False
    reset_dag_runs: StrictBool = True
    # A task id, or [task_id, map_index] for one mapped instance, as in Airflow.
    task_ids: list[str | tuple[str, JsonInt]] | None = None
    dag_run_id: str | None = None
    include_upstream: StrictBool = False
    include_downstream: StrictBool = False
    include_future: StrictBool = False
    include_past: StrictBool = False
    run_on_latest_version: StrictBool = False
    note: str | None = Field(None, max_length=1000)
    prevent_running_task: StrictBool = False


class TaskInstancesBatchBody(StrictBody, BodyTimeRangeFilters):
    dag_ids: list[str] | None = None
    dag_run_ids: list[str] | None = None
    task_ids: list[str] | None = None
    state: list[TaskInstanceState | None] | None = None
    pool: list[str] | None = None
    queue: list[str] | None = None
    executor: list[str] | None = None
    page_offset: JsonInt = Field(0, ge=0)
    page_limit: JsonInt = Field(100, ge=0)
    order_by: str | None = None


class StructuredLogMessage(BaseModel):
    """One log line: `event` is the message; the level, source location and any other key
    the line carries come along as extra fields, as in Airflow's structured logs."""

    model_config = ConfigDict(extra="allow")

    timestamp: datetime | None = None
    event: str


class TaskInstancesLogResponse(BaseModel):
    content: list[StructuredLogMessage] | list[str]
    continuation_token: str | None = None
