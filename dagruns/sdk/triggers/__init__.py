"""Triggers: what deferred tasks wait on, run by the triggerer (Airflow's names and paths)."""

from .base import BaseTrigger, TriggerEvent
from .file import FileTrigger
from .temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = ["BaseTrigger", "DateTimeTrigger", "FileTrigger", "TimeDeltaTrigger", "TriggerEvent"]
