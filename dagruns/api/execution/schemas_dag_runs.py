"""Bodies of `/execution/dag-runs/…` (Airflow's execution API datamodels/dagrun.py): a task
(TriggerDagRunOperator) triggers another DAG's run, clears it, and reads its state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class TriggerDAGRunPayload(Schema):
    """Airflow's TriggerDAGRunPayload. `logical_date` None: a run without one."""

    model_config = ConfigDict(extra="forbid")

    logical_date: datetime | None = None
    conf: dict[str, Any] | None = None
    reset_dag_run: bool = False


class DagRunStateResponse(Schema):
    state: str
