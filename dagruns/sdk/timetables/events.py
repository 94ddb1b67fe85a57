"""``EventsTimetable``: runs at listed moments (Airflow 3's ``airflow.timetables.events``).

For irregular but known dates (match days, release dates). Each event is one run whose data
interval is that instant. ``catchup=False`` skips events before now; ``restrict_to_events=True``
makes a manual run cover the most recent past event (the first event if all are in the future)
instead of the moment it was triggered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .base import DagRunInfo, DataInterval, TimeRestriction, Timetable, current_time, ensure_aware


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"EventsTimetable: event {value!r} is not a datetime")
    # As everywhere in a DAG file, a naive datetime means UTC.
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return ensure_aware(value, "event date")


class EventsTimetable(Timetable):
    """Schedules runs at each of ``event_dates`` (duplicates count once)."""

    def __init__(
        self,
        event_dates: Iterable[datetime],
        restrict_to_events: bool = False,
        presorted: bool = False,
        description: str | None = None,
    ) -> None:
        # presorted is accepted for Airflow's signature; sorting a finite list is cheap, and
        # sorting anyway means an unsorted "presorted" list cannot schedule out of order.
        self.event_dates = sorted({_utc(value) for value in event_dates})
        self.restrict_to_events = bool(restrict_to_events)
        if description is None:
            if self.event_dates:
                first, last = self.event_dates[0], self.event_dates[-1]
                self.description = (
                    f"{len(self.event_dates)} events between "
                    f"{first.isoformat(sep='T')} and {last.isoformat(sep='T')}"
                )
            else:
                self.description = "No events"
            self._summary = f"{len(self.event_dates)} events"
        else:
            self.description = description
            self._summary = description

    @property
    def summary(self) -> str:
        return self._summary

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventsTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(tuple(self.event_dates))

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        earliest = restriction.earliest and ensure_aware(restriction.earliest, "start_date")
        if not restriction.catchup:
            now = current_time(now)
            if earliest is None or now > earliest:
                earliest = now
        last_end = last_automated_data_interval and last_automated_data_interval.end
        for event in self.event_dates:
            if earliest is not None and event < earliest:
                continue
            if last_end is not None and event <= last_end:
                continue
            break
        else:
            return None  # no events, or none left
        if restriction.latest is not None and event > ensure_aware(restriction.latest, "end_date"):
            return None
        return DagRunInfo.exact(event)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        run_after = ensure_aware(run_after, "run_after")
        if not self.restrict_to_events or not self.event_dates:
            return DataInterval.exact(run_after)
        past = [event for event in self.event_dates if event <= run_after]
        return DataInterval.exact(past[-1] if past else self.event_dates[0])

    def serialize(self) -> dict[str, Any]:
        return {
            "event_dates": [event.isoformat() for event in self.event_dates],
            "restrict_to_events": self.restrict_to_events,
            "description": self.description,
            "summary": self._summary,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> EventsTimetable:
        timetable = cls(
            [datetime.fromisoformat(text) for text in data["event_dates"]],
            restrict_to_events=data["restrict_to_events"],
            presorted=True,
            description=data["description"],
        )
        timetable._summary = data["summary"]
        return timetable
