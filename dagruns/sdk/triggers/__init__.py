"""Triggers: what deferred tasks wait on, run by the triggerer (Airflow's names and paths)."""

from .base import BaseEventTrigger, BaseTrigger, TriggerEvent
from .file import FileDeleteTrigger, FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseEventTrigger",
    "BaseTrigger",
    "DateTimeTrigger",
    "FileDeleteTrigger",
    "FileTrigger",
    "TimeDeltaTrigger",
    "TriggerEvent",
]
