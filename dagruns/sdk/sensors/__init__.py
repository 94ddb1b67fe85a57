"""Sensors: tasks that wait for a condition (BaseSensorOperator and the standard ones)."""

from .base import BaseSensorOperator, PokeReturnValue, poke_mode_only
from .python import PythonSensor

__all__ = ["BaseSensorOperator", "PokeReturnValue", "PythonSensor", "poke_mode_only"]
