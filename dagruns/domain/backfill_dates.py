"""The dates a backfill covers: Airflow's `_get_info_list` (the DAG's timetable between two
logical dates, both inclusive, keeping only intervals that have ended by now).

The walk stops one interval past `limit`, so a range far too large is refused after a bounded
amount of work instead of being enumerated in full."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dagruns.domain.schedule_info import ScheduleError, timetable_for
from dagruns.domain.timetables import DagRunInfo, TimeRestriction, TimetableError
from dagruns.sdk.timetables import calling


class TooManyIntervals(ValueError):
    """The range holds more intervals than a backfill may cover."""


class NonPeriodicSchedule(ValueError):
    """The DAG's schedule does not repeat (None, @once, …): nothing to backfill."""


def backfill_infos(
    serialized: dict[str, Any],
    from_date: datetime,
    to_date: datetime,
    *,
    now: datetime,
    reverse: bool,
    limit: int,
) -> list[DagRunInfo]:
    """The runs a backfill of the serialized DAG from `from_date` to `to_date` would make, in
    the order it makes them. Raises NonPeriodicSchedule, TooManyIntervals, or ScheduleError
    when the timetable cannot answer."""
    dag_id = serialized.get("dag_id")
    timetable = timetable_for(serialized)
    if not timetable.periodic or not timetable.can_be_scheduled:
        raise NonPeriodicSchedule(
            f"{dag_id} has a non-periodic schedule that does not support backfills"
        )
    restriction = TimeRestriction(from_date, to_date, True)
    infos: list[DagRunInfo] = []
    last = None
    try:
        while True:
            info = calling.next_dagrun_info(
                timetable, last_automated_data_interval=last, restriction=restriction, now=now
            )
            if info is None or info.logical_date > to_date:
                break
            if info.data_interval.end >= now:
                break  # this interval (and every later one) has not ended yet
            infos.append(info)
            if len(infos) > limit:
                raise TooManyIntervals(
                    f"the range {from_date.isoformat()} to {to_date.isoformat()} holds more "
                    f"than {limit} runs of DAG {dag_id}; a backfill may make at most {limit}: "
                    "split it into smaller ranges"
                )
            last = info.data_interval
    except TimetableError as exc:
        raise ScheduleError(f"DAG {dag_id!r}: {exc}") from exc
    if reverse:
        infos.reverse()
    return infos
