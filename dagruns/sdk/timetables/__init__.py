"""Timetables: from a DAG's serialized ``schedule`` to the dates of its DAG runs.

Pure Python (no Django, no database, no settings): the scheduler passes in the schedule as the
SDK serialized it, the DAG's ``start_date``/``end_date``/``catchup``/timezone, the last
automated run's data interval and the current time, and gets back the next `DagRunInfo`.

Airflow 3 semantics, checked against these documents (and the matching ``airflow-core``
source, ``airflow/timetables/{base,trigger,interval,simple,_cron,_delta}.py``):

* Cron & Time Intervals, "Cron Presets" table —
  https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/cron.html
  (``None`` = external triggers only, ``@once``, ``@hourly`` = ``0 * * * *``, ``@daily`` =
  ``0 0 * * *``, ``@weekly`` = ``0 0 * * 0``, ``@monthly`` = ``0 0 1 * *``, ``@quarterly`` =
  ``0 0 1 */3 *``, ``@yearly`` = ``0 0 1 1 *``).
* Timetables, "Built-in Timetables" and "Differences between 'trigger' and 'data interval'
  timetables" —
  https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/timetable.html
* Dag Runs, "Catchup" (``catchup_by_default`` is False) —
  https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dag-run.html
* Configuration reference, ``[scheduler] create_cron_data_intervals`` and
  ``create_delta_data_intervals`` (both default False in Airflow 3; the 3.0 release notes,
  "Auto data interval calculation is disabled by default": logical date = when the run can
  start) —
  https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#scheduler

So, with ``create_data_intervals=False`` (the default): a cron string or preset becomes a
`CronTriggerTimetable`, a timedelta a `DeltaTriggerTimetable`; with True, a
`CronDataIntervalTimetable` / `DeltaDataIntervalTimetable`. ``@once`` is `OnceTimetable`,
``None`` is `NullTimetable`. One flag drives both kinds here (we expose it as
``ORCH_CREATE_CRON_DATA_INTERVALS``); Airflow has two config keys.

Deliberate differences from Airflow:

* ``now`` is an argument, not ``utcnow()``, so tests need no frozen clock.
* cron expressions must have exactly five fields (croniter would also take a sixth "seconds"
  field and a seventh "year" field, which Airflow's UI cannot describe anyway), and an
  expression that never fires (``0 0 30 2 *``) is rejected up front by `validate_cron`.
* `summary` keeps a preset as written (``"@daily"``); Airflow shows the expanded expression.
* Airflow's stand-in for DST-safe hourly crons adds croniter's step in absolute time; we do
  that only for steps under a day, and resolve longer steps in wall-clock time, so e.g.
  ``0 * * * 1`` stays on the hour across a DST change between two Mondays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from . import calling
from ._cron import CRON_PRESETS, validate_cron
from ._delta import Delta, decode_delta
from .base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from .events import EventsTimetable
from .interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from .registry import (
    TimetableError,
    TimetableNotRegistered,
    class_path,
    timetable_from_serialized,
)
from .simple import NullTimetable, OnceTimetable
from .trigger import CronTriggerTimetable, DeltaTriggerTimetable, MultipleCronTriggerTimetable

__all__ = [
    "CRON_PRESETS",
    "CronDataIntervalTimetable",
    "CronTriggerTimetable",
    "DagRunInfo",
    "DataInterval",
    "DeltaDataIntervalTimetable",
    "DeltaTriggerTimetable",
    "EventsTimetable",
    "MultipleCronTriggerTimetable",
    "NullTimetable",
    "OnceTimetable",
    "TimeRestriction",
    "Timetable",
    "TimetableError",
    "TimetableNotRegistered",
    "class_path",
    "describe_timetable",
    "manual_data_interval",
    "next_run_after",
    "timetable_from_schedule",
    "validate_cron",
]

manual_data_interval = calling.manual_data_interval
describe_timetable = calling.describe


def timetable_from_schedule(
    schedule: dict[str, Any] | None,
    *,
    timezone: str = "UTC",
    create_data_intervals: bool = False,
    plugin_timetables: Mapping[str, type[Timetable]] | None = None,
) -> Timetable:
    """Build the timetable for a schedule as the SDK serializes it.

    ``schedule`` is None, ``{"type": "cron", "expression": ..., "preset": ... or None}``,
    ``{"type": "delta", "seconds": ...}`` (or ``"relativedelta": {fields}``), ``{"type": "once"}`` or ``{"type": "timetable",
    "class": ..., "data": ...}`` (a timetable object; custom classes are looked up in
    ``plugin_timetables``). Raises ValueError (with a message fit for an import-error report)
    for anything else, TimetableError when a timetable object cannot be rebuilt.
    """
    if schedule is None:
        return NullTimetable()
    if not isinstance(schedule, dict):
        raise ValueError(f"Invalid schedule {schedule!r}: expected a dict or None")
    kind = schedule.get("type")
    if kind == "once":
        return OnceTimetable()
    if kind == "timetable":
        return timetable_from_serialized(schedule, plugin_timetables)
    if kind == "cron":
        expression = schedule.get("expression") or schedule.get("preset") or ""
        preset = schedule.get("preset")
        # Keep the preset for display only when it means the same as the expression.
        if preset in CRON_PRESETS and CRON_PRESETS[preset] == " ".join(expression.split()):
            expression = preset
        if create_data_intervals:
            return CronDataIntervalTimetable(expression, timezone)
        return CronTriggerTimetable(expression, timezone=timezone)
    if kind == "delta":
        if "relativedelta" in schedule:
            delta: Delta = decode_delta(schedule["relativedelta"])
        else:
            seconds = schedule.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError(f"Invalid schedule {schedule!r}: 'seconds' must be a number")
            delta = timedelta(seconds=seconds)
        if create_data_intervals:
            return DeltaDataIntervalTimetable(delta)
        return DeltaTriggerTimetable(delta)
    raise ValueError(
        f"Invalid schedule {schedule!r}: unknown type {kind!r} (expected cron, delta or once)"
    )


def next_run_after(
    timetable: Timetable,
    *,
    last_automated_data_interval: DataInterval | None,
    start_date: datetime | None,
    end_date: datetime | None,
    catchup: bool,
    now: datetime,
) -> DagRunInfo | None:
    """The DAG's next automated run (possibly in the future), or None if there is none.

    The scheduler stores ``run_after`` as the DAG's "create after" time and creates the run
    once it has passed, as Airflow's ``next_dagrun_create_after`` does. A custom timetable
    that raises or answers nonsense raises TimetableError naming it.
    """
    if not timetable.can_be_scheduled:
        return None
    return calling.next_dagrun_info(
        timetable,
        last_automated_data_interval=last_automated_data_interval,
        restriction=TimeRestriction(start_date, end_date, catchup),
        now=now,
    )
