"""The value types every timetable speaks, and the `Timetable` contract.

Mirrors ``airflow.timetables.base`` (Airflow 3): a timetable is asked "given the data interval
of the last *automated* run and these restrictions, what is the next run?" and answers with a
`DagRunInfo` or None. Unlike Airflow, the current time is an explicit argument (``now``), so
every decision is reproducible in a test without freezing the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple


def ensure_aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC; refuse a naive datetime (its meaning would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


class DataInterval(NamedTuple):
    """The period of data a DAG run covers: ``[start, end]``, both aware.

    Trigger timetables produce a zero-length interval (``start == end == run_after``) unless
    they were given an ``interval``; data-interval timetables produce contiguous windows.
    """

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        """An "interval" that is one point in time."""
        return cls(at, at)


class TimeRestriction(NamedTuple):
    """Bounds on automated scheduling, taken from the DAG's ``start_date``, ``end_date`` and
    ``catchup``. ``earliest`` and ``latest`` are inclusive; either may be None (unbounded).
    """

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


@dataclass(frozen=True, slots=True)
class DagRunInfo:
    """What the scheduler needs to create one DAG run.

    ``run_after`` is the earliest moment the run may be created and started. ``logical_date``
    is, as in Airflow 3's ``DagRunInfo.logical_date``, always ``data_interval.start``: for a
    trigger timetable without ``interval`` that is the trigger time itself; for a data-interval
    timetable it is the start of the window, while the run waits for the window's end.
    """

    run_after: datetime
    data_interval: DataInterval
    logical_date: datetime

    @classmethod
    def exact(cls, at: datetime) -> DagRunInfo:
        """A run at one point in time (``@once``, trigger timetables without ``interval``)."""
        return cls(run_after=at, data_interval=DataInterval.exact(at), logical_date=at)

    @classmethod
    def interval(cls, start: datetime, end: datetime) -> DagRunInfo:
        """A run covering ``[start, end]`` that may start once ``end`` is reached."""
        return cls(run_after=end, data_interval=DataInterval(start, end), logical_date=start)


class Timetable:
    """Turns a DAG's schedule into DAG-run dates (Airflow 3 ``Timetable`` protocol).

    Subclasses implement `next_dagrun_info` and `infer_manual_data_interval`, and set
    `summary` (short, e.g. ``"0 0 * * *"``) and `description` (in words, e.g. ``"At 00:00"``).
    """

    #: Human-readable schedule, shown in the UI.
    description: str = ""
    #: False for schedules that do not repeat (``None`` and ``@once``).
    periodic: bool = True
    #: False only for the "manual only" timetable; the scheduler need not ask it anything.
    can_be_scheduled: bool = True

    @property
    def summary(self) -> str:
        """A short label for the schedule; defaults to the class name, as in Airflow."""
        return type(self).__name__

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime,
    ) -> DagRunInfo | None:
        """The next automated run after the last one, or None if there will be none.

        The answer may lie in the future: the scheduler creates the run once ``run_after``
        has passed. ``last_automated_data_interval`` ignores manual runs, as in Airflow.
        """
        raise NotImplementedError

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The data interval a manually triggered run at ``run_after`` should cover."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary!r}>"
