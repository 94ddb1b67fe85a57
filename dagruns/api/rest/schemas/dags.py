"""DAGs, their sources and tags (Airflow's datamodels/dags.py, dag_sources.py, dag_tags.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, StrictBool

from dagruns.api.rest.schemas.common import (
    DagRunType,
    DagTagResponse,
    DagVersionResponse,
    StrictBody,
)


class DAGResponse(BaseModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    is_stale: bool
    last_parsed_time: datetime | None = None
    last_parse_duration: float | None = None
    last_expired: datetime | None = None
    bundle_name: str | None = None
    bundle_version: str | None = None
    relative_fileloc: str | None = None
    fileloc: str
    description: str | None = None
    timetable_summary: str | None = None
    timetable_description: str | None = None
    timetable_partitioned: bool = False
    timetable_periodic: bool
    tags: list[DagTagResponse]
    max_active_tasks: int
    max_active_runs: int | None = None
    max_consecutive_failed_dag_runs: int
    has_task_concurrency_limits: bool
    has_import_errors: bool
    next_dagrun_logical_date: datetime | None = None
    next_dagrun_data_interval_start: datetime | None = None
    next_dagrun_data_interval_end: datetime | None = None
    next_dagrun_run_after: datetime | None = None
    allowed_run_types: list[DagRunType] | None = None
    owners: list[str]
    is_backfillable: bool
    file_token: str


class DAGDetailsResponse(DAGResponse):
    catchup: bool
    dag_run_timeout: str | None = None
    asset_expression: dict[str, Any] | None = None
    doc_md: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    is_paused_upon_creation: bool | None = None
    params: dict[str, Any] | None = None
    render_template_as_native_obj: bool
    template_search_path: list[str] | None = None
    timezone: str | None = None
    last_parsed: datetime | None = None
    default_args: dict[str, Any] | None = None
    owner_links: dict[str, str] | None = None
    is_favorite: bool = False
    active_runs_count: int = 0
    rerun_with_latest_version: bool | None = None
    latest_dag_version: DagVersionResponse | None = None
    concurrency: int


class DAGCollectionResponse(BaseModel):
    dags: list[DAGResponse]
    total_entries: int


class DAGPatchBody(StrictBody):
    is_paused: StrictBool


class DAGSourceResponse(BaseModel):
    content: str | None = None
    dag_id: str
    version_number: int | None = None
    dag_display_name: str


class DAGTagCollectionResponse(BaseModel):
    tags: list[str]
    total_entries: int
