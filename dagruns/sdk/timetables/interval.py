"""Data-interval timetables: a run *for* each window, started when the window ends.

Airflow 2's default meaning of a cron or timedelta ``schedule``; in Airflow 3 selected by
``[scheduler] create_cron_data_intervals`` / ``create_delta_data_intervals`` = True. Follows
``airflow.timetables.interval``:

* the run for window ``[S, E]`` has logical date S and may start at E;
* ``catchup=True``: every window from ``start_date`` on, contiguously;
* ``catchup=False``: only the latest *complete* window before ``now`` (cron: the window that
  ended at the last tick; timedelta: the window ending at ``now`` rounded down to a multiple
  of the delta since the epoch).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from ._cron import CronMixin
from ._delta import DeltaMixin, decode_delta, encode_delta
from .base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    current_time,
    ensure_aware,
)


class _DataIntervalTimetable(Timetable):
    """Shared scheduling logic of the cron and delta data-interval timetables."""

    # Provided by CronMixin / DeltaMixin.
    def _get_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _get_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_next(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _align_to_prev(self, current: datetime) -> datetime:
        raise NotImplementedError

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        """The start of the latest complete window (``catchup=False``)."""
        raise NotImplementedError

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
        if not restriction.catchup:
            earliest = self._skip_to_latest(earliest, now)
        elif earliest is not None:
            earliest = self._align_to_next(earliest)
        if last_automated_data_interval is None:
            if earliest is None:  # catchup without a start_date: nothing to anchor on
                return None
            start = earliest
        else:
            last = last_automated_data_interval
            # Re-aligning copes with a schedule that changed since the last run.
            start = self._align_to_prev(last.end)
            if earliest is not None:
                start = max(start, earliest)
            # The new window must start after the last run's logical date, or the run would
            # collide with it (unique per DAG). That happens after switching from a trigger
            # timetable (zero-length last interval) or to a coarser cron; Airflow advances
            # one period (apache/airflow#66132, #72498).
            while start <= last.start:
                start = self._get_next(start)
        if latest is not None and start > latest:
            return None
        return DagRunInfo.interval(start, self._get_next(start))


class CronDataIntervalTimetable(CronMixin, _DataIntervalTimetable):
    """Windows between consecutive ticks of a cron expression, evaluated in ``timezone``."""

    def serialize(self) -> dict[str, Any]:
        return {"expression": self._cron_text(), "timezone": self.timezone_name}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> CronDataIntervalTimetable:
        return cls(data["expression"], data["timezone"])

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        last_start = self._get_prev(now)
        next_start = self._get_next(last_start)
        # Exactly on a tick, the window ending now is complete; between ticks, the latest
        # complete window is the one that ended at the last tick.
        new_start = last_start if next_start == now else self._get_prev(last_start)
        if earliest is None:
            return new_start
        return max(new_start, self._align_to_next(earliest))

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        # The last complete window before run_after: a manual run at 01:00 on the 25th of a
        # daily DAG covers 24th 00:00 to 25th 00:00 (as in Airflow).
        end = self._align_to_prev(ensure_aware(run_after, "run_after"))
        return DataInterval(self._get_prev(end), end)


class DeltaDataIntervalTimetable(DeltaMixin, _DataIntervalTimetable):
    """Contiguous windows of a fixed length ``delta``."""

    def serialize(self) -> dict[str, Any]:
        return {"delta": encode_delta(self._delta)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> DeltaDataIntervalTimetable:
        return cls(decode_delta(data["delta"]))

    def _skip_to_latest(self, earliest: datetime | None, now: datetime) -> datetime:
        new_start = self._get_prev(self._round(now, earliest or now))
        if earliest is None:
            return new_start
        return max(new_start, earliest)

    def _round(self, moment: datetime, anchor: datetime) -> datetime:
        """Airflow's: the latest schedule boundary at or before ``moment``. Fixed steps round
        down to a multiple of the step since the Unix epoch (windows line up on round times,
        not on the moment the DAG was unpaused); months and years have no fixed length, so
        they step from ``anchor`` (the start_date) one period at a time, as catchup would
        (relativedelta clamps days: Jan 31 -> Feb 29 -> Mar 29)."""
        delta = self._delta
        if isinstance(delta, relativedelta) and (delta.months or delta.years):
            boundary = anchor.astimezone(UTC)
            while self._get_next(boundary) <= moment:
                boundary = self._get_next(boundary)
            return boundary
        if isinstance(delta, timedelta):
            step = delta.total_seconds()
        else:  # Airflow's approximation of the remaining fields in seconds
            step = delta.days * 86400 + delta.hours * 3600 + delta.minutes * 60 + delta.seconds
        stamp = moment.timestamp()
        return datetime.fromtimestamp(stamp - (stamp % step), tz=UTC)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = ensure_aware(run_after, "run_after")
        return DataInterval(self._get_prev(run_after), run_after)
