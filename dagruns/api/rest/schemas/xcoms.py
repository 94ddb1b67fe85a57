"""XCom entries (Airflow's datamodels/xcom.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class XComResponse(BaseModel):
    key: str
    timestamp: datetime
    logical_date: datetime | None = None
    map_index: int
    task_id: str
    dag_id: str
    run_id: str
    dag_display_name: str
    task_display_name: str
    run_after: datetime


class XComResponseNative(XComResponse):
    value: Any


class XComResponseString(XComResponse):
    value: str | None = None


class XComCollectionResponse(BaseModel):
    xcom_entries: list[XComResponse]
    total_entries: int
