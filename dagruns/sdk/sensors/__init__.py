"""Sensors: tasks that wait for a condition (BaseSensorOperator and the standard ones)."""

from .base import BaseSensorOperator, PokeReturnValue, poke_mode_only
from .bash import BashSensor
from .external_task import ExternalTaskMarker, ExternalTaskSensor
from .filesystem import FileSensor
from .python import PythonSensor
from .temporal import (
    DateTimeSensor,
    DateTimeSensorAsync,
    DayOfWeekSensor,
    TimeDeltaSensor,
    TimeDeltaSensorAsync,
    TimeSensor,
    TimeSensorAsync,
    WaitSensor,
)

__all__ = [
    "BaseSensorOperator",
    "BashSensor",
    "DateTimeSensor",
    "DateTimeSensorAsync",
    "DayOfWeekSensor",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "FileSensor",
    "PokeReturnValue",
    "PythonSensor",
    "TimeDeltaSensor",
    "TimeDeltaSensorAsync",
    "TimeSensor",
    "TimeSensorAsync",
    "WaitSensor",
    "poke_mode_only",
]
