"""From a serialized ``{"type": "timetable", "class": ..., "data": ...}`` back to a timetable.

Built-in classes are always known. A custom class is known only if a plugin registered it
(``AirflowPlugin.timetables``, loaded from ORCH_PLUGINS_FOLDER by the processes that schedule:
the caller passes them in as ``plugin_timetables``), which is Airflow's rule: the scheduler never
imports DAG files, so it must find the class somewhere it trusts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .assets import AssetOrTimeSchedule, AssetTriggeredTimetable
from .base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from .events import EventsTimetable
from .interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from .simple import NullTimetable, OnceTimetable
from .trigger import CronTriggerTimetable, DeltaTriggerTimetable, MultipleCronTriggerTimetable


def class_path(cls: type) -> str:
    """How a timetable class is named in a serialized DAG (Airflow's ``qualname``)."""
    return f"{cls.__module__}.{cls.__qualname__}"


BUILTIN: dict[str, type[Timetable]] = {
    class_path(cls): cls
    for cls in (
        CronTriggerTimetable,
        DeltaTriggerTimetable,
        MultipleCronTriggerTimetable,
        CronDataIntervalTimetable,
        DeltaDataIntervalTimetable,
        EventsTimetable,
        NullTimetable,
        OnceTimetable,
        AssetTriggeredTimetable,
        AssetOrTimeSchedule,
    )
}


class TimetableError(Exception):
    """A timetable could not be rebuilt or raised while being asked for a date; the message
    names the timetable class (callers add the DAG)."""


class TimetableNotRegistered(TimetableError):
    pass


def timetable_from_serialized(
    data: Mapping[str, Any], plugin_timetables: Mapping[str, type[Timetable]] | None = None
) -> Timetable:
    path = str(data.get("class"))
    cls = BUILTIN.get(path) or (plugin_timetables or {}).get(path)
    if cls is None:
        raise TimetableNotRegistered(
            f"Timetable class {path!r} is not registered: a custom timetable must be listed in "
            "the `timetables` of an AirflowPlugin in the plugins folder (ORCH_PLUGINS_FOLDER)"
        )
    try:
        timetable = cls.deserialize(dict(data.get("data") or {}))
    except Exception as exc:
        raise TimetableError(
            f"timetable {path} could not be rebuilt by its deserialize(): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(timetable, Timetable):
        raise TimetableError(f"timetable {path}: deserialize() returned {timetable!r}")
    return timetable


class UnregisteredTimetable(Timetable):
    """Stands in, in a deserialized DAG object, for a custom timetable whose class this process
    does not know; it keeps the serialized form and refuses to schedule."""

    def __init__(self, serialized: Mapping[str, Any]) -> None:
        self.serialized_form = dict(serialized)
        self.class_path = str(serialized.get("class"))

    @property
    def summary(self) -> str:
        return self.class_path.rpartition(".")[2]

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        raise TimetableNotRegistered(f"Timetable class {self.class_path!r} is not registered")

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        raise TimetableNotRegistered(f"Timetable class {self.class_path!r} is not registered")


def builtin_timetable(data: Mapping[str, Any]) -> Timetable:
    """The timetable of a serialized schedule, for `deserialize_dag` (which knows no plugins)."""
    try:
        return timetable_from_serialized(data)
    except TimetableNotRegistered:
        return UnregisteredTimetable(data)
