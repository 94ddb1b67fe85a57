"""Timetables, for the domain and the engine: the classes live in the SDK
(`dagruns.sdk.timetables`), because DAG files construct them (``schedule=CronTriggerTimetable
(...)``) and custom ones subclass `Timetable` in plugins, which the task runner imports too.
This module keeps the domain's import path and adds nothing."""

from dagruns.sdk.timetables import *  # noqa: F403
from dagruns.sdk.timetables import __all__  # noqa: F401
