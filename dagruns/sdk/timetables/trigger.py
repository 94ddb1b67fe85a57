"""Trigger timetables: a run *at* each tick, like POSIX cron (Airflow 3's default).

Follows ``airflow.timetables.trigger`` and the "Differences between 'trigger' and 'data
interval' timetables" section of
https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/timetable.html:

* the run for tick T may start at T; its data interval is ``[T - interval, T]`` (zero-length
  by default) and its logical date is the interval's start, so T itself by default;
* ``catchup=True``: every tick from ``start_date`` on, one after another;
* ``catchup=False``: the most recent tick at or before ``now`` at most (never older ticks),
  or the next tick after the last run / ``start_date`` if that is later. So a DAG unpaused
  at 15:00 with ``@daily`` gets today's 00:00 run at once, and the 00:00 run of tomorrow next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ._cron import CronMixin
from ._delta import Delta, DeltaMixin, decode_delta, encode_delta
from .base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    current_time,
    ensure_aware,
)


class _TriggerTimetable(Timetable):
    """Shared scheduling logic of the cron and delta trigger timetables."""

    _interval: timedelta

    # Provided by CronMixin / DeltaMixin.
    def _get_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _calc_first_run(self, now: datetime) -> datetime:
        """The first tick when neither a previous run nor a ``start_date`` pins one down."""
        raise NotImplementedError

    @property
    def interval(self) -> timedelta:
        """The length of each run's data interval, which ends at the trigger time."""
        return self._interval

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = ensure_aware(run_after, "run_after")
        return DataInterval(run_after - self._interval, run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        now = current_time(now)
        earliest = restriction.earliest and ensure_aware(restriction.earliest, "start_date")
        latest = restriction.latest and ensure_aware(restriction.latest, "end_date")
        if restriction.catchup:
            if last_automated_data_interval is not None:
                next_time = self._get_next(last_automated_data_interval.end)
            elif earliest is None:
                next_time = self._calc_first_run(now)
            else:
                next_time = self._align_to_next(earliest)
        else:
            # Airflow skips missed ticks but still runs the most recent one that is due:
            # the latest of "last tick before now", "tick after the last run" and
            # "first tick from start_date" wins.
            candidates = [self._align_to_prev(now)]
            if last_automated_data_interval is not None:
                candidates.append(self._get_next(last_automated_data_interval.end))
            elif earliest is None:
                candidates.append(self._calc_first_run(now))
            if earliest is not None:
                candidates.append(self._align_to_next(earliest))
            next_time = max(candidates)
        if latest is not None and latest < next_time:
            return None
        return DagRunInfo.interval(next_time - self._interval, next_time)


class CronTriggerTimetable(CronMixin, _TriggerTimetable):
    """Runs at each tick of a cron expression, evaluated in ``timezone``.

    What ``schedule="0 0 * * *"`` (or ``"@daily"``) means in Airflow 3, where
    ``[scheduler] create_cron_data_intervals`` defaults to False.

    ``run_immediately`` only matters for a DAG with neither runs nor a ``start_date``:
    True runs the most recent past tick at once; False (Airflow's default) does so only if
    that tick is recent (within 10% of the gap between ticks, at least five minutes), else
    waits for the next tick; a timedelta sets that window explicitly.
    """

    def __init__(
        self,
        cron: str,
        *,
        timezone: str | tzinfo = "UTC",
        interval: timedelta = timedelta(),
        run_immediately: bool | timedelta = False,
    ) -> None:
        super().__init__(cron, timezone)
        self._interval = check_interval(interval)
        if not isinstance(run_immediately, bool | timedelta):
            raise ValueError(
                f"run_immediately must be a bool or a timedelta, not {run_immediately!r}"
            )
        self._run_immediately = run_immediately

    def serialize(self) -> dict[str, Any]:
        return {
            "expression": self._cron_text(),
            "timezone": self.timezone_name,
            "interval": self._interval.total_seconds(),
            "run_immediately": encode_run_immediately(self._run_immediately),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> CronTriggerTimetable:
        return cls(
            data["expression"],
            timezone=data["timezone"],
            interval=timedelta(seconds=data["interval"]),
            run_immediately=decode_run_immediately(data["run_immediately"]),
        )

    def _calc_first_run(self, now: datetime) -> datetime:
        past_run_time = self._align_to_prev(now)
        if self._run_immediately is True:  # "is": a timedelta is truthy too
            return past_run_time
        next_run_time = self._align_to_next(now)
        if isinstance(self._run_immediately, timedelta):
            buffer = self._run_immediately
        else:
            buffer = max((next_run_time - past_run_time) / 10, timedelta(minutes=5))
        if now.astimezone(UTC) - past_run_time <= buffer:
            return past_run_time
        return next_run_time


class DeltaTriggerTimetable(DeltaMixin, _TriggerTimetable):
    """Runs every ``delta``, starting at ``start_date``.

    What ``schedule=timedelta(...)`` means in Airflow 3, where
    ``[scheduler] create_delta_data_intervals`` defaults to False.
    """

    def __init__(self, delta: Delta, *, interval: timedelta = timedelta()) -> None:
        super().__init__(delta)
        self._interval = check_interval(interval)

    def serialize(self) -> dict[str, Any]:
        return {"delta": encode_delta(self._delta), "interval": self._interval.total_seconds()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> DeltaTriggerTimetable:
        return cls(decode_delta(data["delta"]), interval=timedelta(seconds=data["interval"]))

    def _calc_first_run(self, now: datetime) -> datetime:
        # Every instant is aligned for a delta, so without a start_date the first run is now.
        return self._align_to_prev(now)


class MultipleCronTriggerTimetable(Timetable):
    """Runs at every tick of any of several cron expressions (Airflow 3's class of that name):
    one `CronTriggerTimetable` per expression, and at most one run for a given time.

    ``catchup=True``: the earliest next run of any of them; ``catchup=False``: the latest of
    those already due, else the earliest one to come (Airflow's sort keys, with ``now``).
    """

    def __init__(
        self,
        *crons: str,
        timezone: str | tzinfo = "UTC",
        interval: timedelta = timedelta(),
        run_immediately: bool | timedelta = False,
    ) -> None:
        if not crons:
            raise ValueError("MultipleCronTriggerTimetable needs at least one cron expression")
        self._timetables = [
            CronTriggerTimetable(
                cron, timezone=timezone, interval=interval, run_immediately=run_immediately
            )
            for cron in crons
        ]
        self.description = ", ".join(t.description for t in self._timetables)

    @property
    def summary(self) -> str:
        return ", ".join(t.summary for t in self._timetables)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultipleCronTriggerTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))

    def serialize(self) -> dict[str, Any]:
        # Every member shares timezone, interval and run_immediately: the first speaks for all.
        first = self._timetables[0].serialize()
        return {
            "expressions": [t.serialize()["expression"] for t in self._timetables],
            "timezone": first["timezone"],
            "interval": first["interval"],
            "run_immediately": first["run_immediately"],
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> MultipleCronTriggerTimetable:
        return cls(
            *data["expressions"],
            timezone=data["timezone"],
            interval=timedelta(seconds=data["interval"]),
            run_immediately=decode_run_immediately(data["run_immediately"]),
        )

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return min(
            (t.infer_manual_data_interval(run_after) for t in self._timetables),
            key=lambda interval: interval.start,
        )

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        now = current_time(now)
        infos = [
            t.next_dagrun_info(
                last_automated_data_interval=last_automated_data_interval,
                restriction=restriction,
                now=now,
            )
            for t in self._timetables
        ]
        candidates = [info for info in infos if info is not None]
        if not candidates:
            return None
        if restriction.catchup:
            return min(candidates, key=lambda info: info.logical_date)
        # The most recent run already due wins (older ones are skipped); if none is due yet,
        # the soonest one to come.
        due = [info for info in candidates if info.logical_date <= now]
        if due:
            return max(due, key=lambda info: info.logical_date)
        return min(candidates, key=lambda info: info.logical_date)


def check_interval(interval: object) -> timedelta:
    if not isinstance(interval, timedelta) or interval < timedelta(0):
        raise ValueError(
            f"interval must be a timedelta of zero or more, not {interval!r} (a relativedelta "
            "is not supported)"
        )
    return interval


def encode_run_immediately(value: bool | timedelta) -> bool | float:
    return value if isinstance(value, bool) else value.total_seconds()


def decode_run_immediately(value: bool | float) -> bool | timedelta:
    return value if isinstance(value, bool) else timedelta(seconds=value)
