"""Backfills (Airflow's datamodels/backfills.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool

from dagruns.api.rest.schemas.common import JSON_NUMBER, StrictBody, UtcDatetime


class ReprocessBehavior(StrEnum):
    FAILED = "failed"
    COMPLETED = "completed"
    NONE = "none"


class BackfillPostBody(StrictBody):
    dag_id: str
    from_date: UtcDatetime
    to_date: UtcDatetime
    run_backwards: StrictBool = False
    dag_run_conf: dict[str, Any] | None = None
    reprocess_behavior: ReprocessBehavior = ReprocessBehavior.NONE
    max_active_runs: Annotated[int, Field(ge=1, le=2**31 - 1), JSON_NUMBER] = 10


class BackfillResponse(BaseModel):
    id: int = Field(ge=0)
    dag_id: str
    from_date: datetime
    to_date: datetime
    dag_run_conf: dict[str, Any]
    is_paused: bool
    reprocess_behavior: ReprocessBehavior
    max_active_runs: int
    created_at: datetime
    completed_at: datetime | None
    updated_at: datetime
    dag_display_name: str


class BackfillCollectionResponse(BaseModel):
    backfills: list[BackfillResponse]
    total_entries: int


class DryRunBackfillResponse(BaseModel):
    logical_date: datetime


class DryRunBackfillCollectionResponse(BaseModel):
    backfills: list[DryRunBackfillResponse]
    total_entries: int
