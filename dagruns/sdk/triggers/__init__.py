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
from .file import FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseEventTrigger",
    "BaseTaskEndEvent",
    "BaseTrigger",
    "DateTimeTrigger",
    "FileTrigger",
    "TaskFailedEvent",
    "TaskSkippedEvent",
    "TaskSuccessEvent",
    "TimeDeltaTrigger",
    "TriggerEvent",
]
