"""Airflow 3's asset shapes (``api_fastapi/core_api/datamodels/assets.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dagruns.api.rest.schemas.common import StrictBody


class DagScheduleAssetReference(BaseModel):
    dag_id: str
    created_at: datetime
    updated_at: datetime


class TaskOutletAssetReference(BaseModel):
    dag_id: str
    task_id: str
    created_at: datetime
    updated_at: datetime


class TaskInletAssetReference(TaskOutletAssetReference):
    pass


class AssetAliasResponse(BaseModel):
    id: int
    name: str
    group: str


class AssetAliasCollectionResponse(BaseModel):
    asset_aliases: list[AssetAliasResponse]
    total_entries: int


class LastAssetEventResponse(BaseModel):
    id: int | None = Field(default=None, ge=0)
    timestamp: datetime | None = None


class AssetResponse(BaseModel):
    id: int
    name: str
    uri: str
    group: str
    extra: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    scheduled_dags: list[DagScheduleAssetReference]
    producing_tasks: list[TaskOutletAssetReference]
    consuming_tasks: list[TaskInletAssetReference]
    aliases: list[AssetAliasResponse]
    last_asset_event: LastAssetEventResponse | None = None


class AssetCollectionResponse(BaseModel):
    assets: list[AssetResponse]
    total_entries: int


class DagRunAssetReference(BaseModel):
    run_id: str
    dag_id: str
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    state: str
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None


class AssetEventResponse(BaseModel):
    id: int
    asset_id: int
    uri: str | None = None
    name: str | None = None
    group: str | None = None
    extra: dict[str, Any] | None = None
    source_task_id: str | None = None
    source_dag_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int
    created_dagruns: list[DagRunAssetReference]
    timestamp: datetime


class AssetEventCollectionResponse(BaseModel):
    asset_events: list[AssetEventResponse]
    total_entries: int


class QueuedEventResponse(BaseModel):
    dag_id: str
    asset_id: int
    created_at: datetime
    dag_display_name: str


class QueuedEventCollectionResponse(BaseModel):
    queued_events: list[QueuedEventResponse]
    total_entries: int


class CreateAssetEventsBody(StrictBody):
    asset_id: int = Field(..., ge=-(2**63), le=2**63 - 1)
    extra: dict[str, Any] = Field(default_factory=dict)
