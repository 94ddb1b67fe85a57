"""Asking any timetable, ours or a custom one, for dates: the one place that knows the two
calling conventions and that a custom timetable is user code.

Our built-in timetables take ``now`` (reproducible tests) and give plain UTC datetimes. A
custom timetable has Airflow's signature (no ``now``) and, as in Airflow, receives pendulum
``DateTime`` values (its code calls ``.add()``, ``.in_timezone()`` ...). What it returns is
checked and brought back to plain UTC datetimes; anything it raises becomes a `TimetableError`
naming its class, so one broken timetable costs its own DAG a run, never the scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pendulum

from .base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from .registry import TimetableError, class_path

_OURS = __name__.rpartition(".")[0] + "."


def is_builtin(timetable: Timetable) -> bool:
    return type(timetable).__module__.startswith(_OURS)


def _to_pendulum(value: datetime) -> pendulum.DateTime:
    return pendulum.instance(value)


def _maybe_pendulum(value: datetime | None) -> pendulum.DateTime | None:
    return None if value is None else pendulum.instance(value)


def _to_plain_utc(value: object, what: str, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise TimetableError(
            f"timetable {name} returned {what} {value!r}: expected a timezone-aware datetime"
        )
    utc = value.astimezone(UTC)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


def _plain_interval(interval: object, name: str) -> DataInterval:
    if not isinstance(interval, tuple) or len(interval) != 2:
        raise TimetableError(f"timetable {name} returned {interval!r}: expected a DataInterval")
    start = _to_plain_utc(interval[0], "a data interval start", name)
    end = _to_plain_utc(interval[1], "a data interval end", name)
    if end < start:
        raise TimetableError(
            f"timetable {name} returned a data interval that ends before it starts"
        )
    return DataInterval(start, end)


def next_dagrun_info(
    timetable: Timetable,
    *,
    last_automated_data_interval: DataInterval | None,
    restriction: TimeRestriction,
    now: datetime,
) -> DagRunInfo | None:
    if is_builtin(timetable):
        return timetable.next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval,
            restriction=restriction,
            now=now,
        )
    name = class_path(type(timetable))
    last = last_automated_data_interval
    try:
        info = timetable.next_dagrun_info(
            last_automated_data_interval=(
                None
                if last is None
                else DataInterval(_to_pendulum(last.start), _to_pendulum(last.end))
            ),
            restriction=TimeRestriction(
                _maybe_pendulum(restriction.earliest),
                _maybe_pendulum(restriction.latest),
                restriction.catchup,
            ),
        )
    except Exception as exc:
        raise TimetableError(
            f"timetable {name}.next_dagrun_info raised {type(exc).__name__}: {exc}"
        ) from exc
    if info is None:
        return None
    if not isinstance(info, DagRunInfo):
        raise TimetableError(
            f"timetable {name}.next_dagrun_info returned {info!r}: expected a DagRunInfo or None"
        )
    interval = _plain_interval(info.data_interval, name)
    answer = DagRunInfo(
        run_after=_to_plain_utc(info.run_after, "run_after", name),
        data_interval=interval,
        logical_date=_to_plain_utc(info.logical_date, "a logical date", name),
    )
    if last is not None and answer.logical_date <= last.start:
        # The scheduler would ask again at once, forever: a run must come after the last one.
        raise TimetableError(
            f"timetable {name}.next_dagrun_info returned a run at {answer.logical_date}, not "
            f"after the last run ({last.start}): it must move forward"
        )
    return answer


def describe(timetable: Timetable) -> tuple[str, str]:
    """The timetable's ``summary`` and ``description`` (user code for a custom one)."""
    try:
        return str(timetable.summary), str(timetable.description or "")
    except Exception as exc:
        raise TimetableError(
            f"timetable {class_path(type(timetable))}'s summary or description raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def manual_data_interval(timetable: Timetable, run_after: datetime) -> DataInterval:
    """The data interval of a run triggered by hand at ``run_after``."""
    if is_builtin(timetable):
        return timetable.infer_manual_data_interval(run_after=run_after)
    name = class_path(type(timetable))
    try:
        interval = timetable.infer_manual_data_interval(run_after=_to_pendulum(run_after))
    except Exception as exc:
        raise TimetableError(
            f"timetable {name}.infer_manual_data_interval raised {type(exc).__name__}: {exc}"
        ) from exc
    return _plain_interval(interval, name)
