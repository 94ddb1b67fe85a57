"""What a DAG's schedule means for its DagModel row: the words shown in the UI and when the
next run is due. The processor fills these in when a DAG appears or its schedule changes;
afterwards the scheduler moves `next_dagrun*` forward as it creates runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from dagruns.domain.plugins import plugin_errors, plugin_timetables
from dagruns.domain.timetables import (
    DataInterval,
    Timetable,
    TimetableError,
    TimetableNotRegistered,
    describe_timetable,
    manual_data_interval,
    next_run_after,
    timetable_from_schedule,
)
from dagruns.models import DagModel, DagRun, DagRunType
from dagruns.sdk.timeutil import parse_isoformat


class ScheduleError(Exception):
    """A DAG's timetable cannot be built or raised when asked for a date. The message names
    the DAG and the timetable; it costs that DAG its schedule, never the scheduler."""


def timetable_for(data: dict[str, Any]) -> Timetable:
    """The timetable of a serialized DAG; ScheduleError if a custom one cannot be rebuilt."""
    try:
        return timetable_from_schedule(
            data.get("schedule"),
            timezone=data.get("timezone") or "UTC",
            create_data_intervals=settings.ORCH.create_cron_data_intervals,
            plugin_timetables=plugin_timetables(),
        )
    except TimetableNotRegistered as exc:
        failed = "; ".join(
            f"{path}: {error.splitlines()[0]}" for path, error in plugin_errors().items()
        )
        hint = f" (plugin files that failed to load: {failed})" if failed else ""
        raise ScheduleError(f"DAG {data.get('dag_id')!r}: {exc}{hint}") from exc
    except TimetableError as exc:
        raise ScheduleError(f"DAG {data.get('dag_id')!r}: {exc}") from exc


def manual_interval(data: dict[str, Any], run_after: datetime) -> DataInterval:
    """The data interval of a manual run of a serialized DAG at ``run_after``."""
    try:
        return manual_data_interval(timetable_for(data), run_after)
    except TimetableError as exc:
        raise ScheduleError(f"DAG {data.get('dag_id')!r}: {exc}") from exc


def last_automated_data_interval(dag: DagModel) -> DataInterval | None:
    last = (
        DagRun.objects.filter(dag=dag, run_type__in=[DagRunType.SCHEDULED, DagRunType.BACKFILL])
        .exclude(data_interval_start=None)
        .order_by("-logical_date")
        .first()
    )
    if last is None or last.data_interval_start is None or last.data_interval_end is None:
        return None
    return DataInterval(last.data_interval_start, last.data_interval_end)


def next_dagrun_fields(
    data: dict[str, Any],
    now: datetime,
    last_interval: DataInterval | None,
    timetable: Timetable | None = None,
) -> dict[str, Any]:
    """The DagModel `next_dagrun*` fields: when the DAG's next scheduled run is due, after
    `last_interval` (None: it never ran). The processor sets them when a DAG appears or its
    schedule changes; the scheduler after creating each run. ScheduleError if the timetable
    raises (a custom one)."""
    try:
        info = next_run_after(
            timetable or timetable_for(data),
            last_automated_data_interval=last_interval,
            start_date=parse_isoformat(data.get("start_date")),
            end_date=parse_isoformat(data.get("end_date")),
            catchup=bool(data.get("catchup")),
            now=now,
        )
    except TimetableError as exc:
        raise ScheduleError(f"DAG {data.get('dag_id')!r}: {exc}") from exc
    return {
        "next_dagrun": info.logical_date if info else None,
        "next_dagrun_data_interval_start": info.data_interval.start if info else None,
        "next_dagrun_data_interval_end": info.data_interval.end if info else None,
        "next_dagrun_create_after": info.run_after if info else None,
    }


def schedule_fields(
    data: dict[str, Any], now: datetime, last_interval: DataInterval | None
) -> dict[str, Any]:
    """The schedule in words plus the next-run fields."""
    timetable = timetable_for(data)
    try:
        summary, description = describe_timetable(timetable)
    except TimetableError as exc:
        raise ScheduleError(f"DAG {data.get('dag_id')!r}: {exc}") from exc
    return {
        "timetable_summary": summary,
        "timetable_description": description,
        **next_dagrun_fields(data, now, last_interval, timetable),
    }


NO_NEXT_RUN: dict[str, Any] = {
    "next_dagrun": None,
    "next_dagrun_data_interval_start": None,
    "next_dagrun_data_interval_end": None,
    "next_dagrun_create_after": None,
}
