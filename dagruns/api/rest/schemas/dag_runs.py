"""DAG runs (Airflow's datamodels/dag_run.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from dagruns.actions.task_instances import RUN_SETTABLE_STATES
from dagruns.api.rest.schemas.common import (
    BodyTimeRangeFilters,
    DagRunState,
    DagRunTriggeredByType,
    DagRunType,
    DagVersionResponse,
    JsonInt,
    StrictBody,
    UtcDatetime,
)

# A state field typed as plain text but documented as Airflow's enum: a value outside it is
# answered with a 400 naming the allowed states (the issue asks for 400 where FastAPI would
# say 422), while a non-string is still a 422.
# The states a PATCH may set, as the run-state action accepts them.
RUN_PATCH_STATES = tuple(s.value for s in RUN_SETTABLE_STATES)


class DAGRunResponse(BaseModel):
    dag_run_id: str
    dag_id: str
    logical_date: datetime | None = None
    queued_at: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime
    last_scheduling_decision: datetime | None = None
    run_type: DagRunType
    state: DagRunState
    triggered_by: DagRunTriggeredByType | None = None
    triggering_user_name: str | None = None
    conf: dict[str, Any] | None = None
    note: str | None = None
    dag_versions: list[DagVersionResponse]
    bundle_version: str | None = None
    dag_display_name: str
    partition_key: str | None = None


class DAGRunCollectionResponse(BaseModel):
    dag_runs: list[DAGRunResponse]
    total_entries: int


class TriggerDAGRunPostBody(BaseModel):
    # Airflow lets this body carry extra fields (it ignores them), so it is not strict.
    model_config = ConfigDict(extra="allow")

    # Characters outside Airflow's allowed_run_id_pattern are a 400 from the action, as in
    # Airflow (whose document states no pattern either).
    dag_run_id: str | None = Field(None, max_length=250, min_length=1)
    # Accepted for compatibility and ignored: the interval and run_after of a manual run come
    # from the DAG's timetable (do_trigger_dag), as for CLI and UI triggers.
    data_interval_start: UtcDatetime | None = None
    data_interval_end: UtcDatetime | None = None
    logical_date: UtcDatetime | None = None
    run_after: UtcDatetime | None = None
    conf: dict[str, Any] | None = None
    note: str | None = Field(None, max_length=1000)
    partition_key: str | None = None


class DAGRunPatchBody(StrictBody):
    state: str | None = Field(None, json_schema_extra={"enum": list(RUN_PATCH_STATES)})
    note: str | None = Field(None, max_length=1000)


class DAGRunClearBody(StrictBody):
    dry_run: StrictBool = True
    only_failed: StrictBool = False
    only_new: StrictBool = False
    run_on_latest_version: StrictBool = False
    note: str | None = Field(None, max_length=1000)


class DAGRunsBatchBody(StrictBody, BodyTimeRangeFilters):
    order_by: str | None = None
    page_offset: JsonInt = Field(0, ge=0)
    page_limit: JsonInt = Field(100, ge=0)
    dag_ids: list[str] | None = None
    states: list[DagRunState | None] | None = None
    conf_contains: str | None = None
