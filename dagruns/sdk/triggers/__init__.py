"""Triggers: what deferred tasks wait on, run by the triggerer (Airflow's names and paths)."""

from .base import BaseEventTrigger, BaseTrigger, TriggerEvent
from .external_task import DagStateTrigger, WorkflowTrigger
from .file import DirectoryFileDeleteTrigger, FileDeleteTrigger, FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseEventTrigger",
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "DirectoryFileDeleteTrigger",
    "FileDeleteTrigger",
    "FileTrigger",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
]
