"""Driving timetables in tests: aware UTC datetimes and the scheduler's catch-up loop."""

from __future__ import annotations

from datetime import UTC, datetime

from dagruns.sdk.timetables import DagRunInfo, DataInterval, TimeRestriction, Timetable


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def first(
    timetable: Timetable,
    *,
    start: datetime | None,
    now: datetime,
    catchup: bool = False,
    end: datetime | None = None,
    last: DataInterval | None = None,
) -> DagRunInfo | None:
    return timetable.next_dagrun_info(
        last_automated_data_interval=last,
        restriction=TimeRestriction(start, end, catchup),
        now=now,
    )


def catchup_runs(
    timetable: Timetable, *, start: datetime, now: datetime, end: datetime | None = None
) -> list[DagRunInfo]:
    """Every run a catching-up scheduler creates by ``now`` (as the scheduler loop would)."""
    result: list[DagRunInfo] = []
    last = None
    while (info := first(timetable, start=start, now=now, catchup=True, end=end, last=last)) and (
        info.run_after <= now
    ):
        result.append(info)
        last = info.data_interval
    return result
