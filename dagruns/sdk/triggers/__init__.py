"""Triggers: what deferred tasks wait on, run by the triggerer (Airflow's names and paths)."""

from .base import (
    BaseEventTrigger,
    BaseTaskEndEvent,
    BaseTrigger,
    TaskFailedEvent,
    TaskSkippedEvent,
    TaskSuccessEvent,
    TriggerEvent,
)
from .external_task import DagStateTrigger, WorkflowTrigger
from .file import DirectoryFileDeleteTrigger, FileDeleteTrigger, FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseEventTrigger",
    "BaseTaskEndEvent",
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "DirectoryFileDeleteTrigger",
    "FileDeleteTrigger",
    "FileTrigger",
    "TaskFailedEvent",
    "TaskSkippedEvent",
    "TaskSuccessEvent",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
]
