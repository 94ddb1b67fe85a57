"""Triggers: what deferred tasks wait on, run by the triggerer (Airflow's names and paths)."""

from .base import BaseTrigger, TriggerEvent
from .external_task import DagStateTrigger, WorkflowTrigger
from .file import FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "FileTrigger",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
]
