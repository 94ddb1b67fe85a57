"""Timetables that do not repeat: ``schedule=None`` and ``schedule="@once"``.

Follows ``airflow.timetables.simple``: descriptions and summaries are Airflow's own strings,
and a manual run of either covers exactly the moment it was triggered.
"""

from __future__ import annotations

from datetime import datetime

from .base import (
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
    current_time,
    ensure_aware,
)


class _TrivialTimetable(Timetable):
    periodic = False

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(ensure_aware(run_after, "run_after"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return True

    def __hash__(self) -> int:
        return hash(type(self).__name__)


class NullTimetable(_TrivialTimetable):
    """``schedule=None``: never scheduled; runs only when triggered manually or externally."""

    can_be_scheduled = False
    description = "Never, external triggers only"

    @property
    def summary(self) -> str:
        return "None"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        return None


class OnceTimetable(_TrivialTimetable):
    """``schedule="@once"``: one automated run, at ``start_date`` (or now without one)."""

    description = "Once, as soon as possible"

    @property
    def summary(self) -> str:
        return "@once"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            return None  # it already ran
        # Airflow schedules "@once" at start_date regardless of catchup (as since 1.10).
        if restriction.earliest is not None:
            run_after = ensure_aware(restriction.earliest, "start_date")
        else:
            run_after = current_time(now)
        if restriction.latest is not None and run_after > ensure_aware(
            restriction.latest, "end_date"
        ):
            return None
        return DagRunInfo.exact(run_after)
