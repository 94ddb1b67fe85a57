"""The value types every timetable speaks, and the `Timetable` contract.

Mirrors ``airflow.timetables.base`` (Airflow 3): a timetable is asked "given the data interval
of the last *automated* run and these restrictions, what is the next run?" and answers with a
`DagRunInfo` or None. Our built-in timetables also take the current time as an argument
(``now``, default: the clock), so every decision is reproducible in a test without freezing the
clock; custom timetables keep Airflow's signature (no ``now``) and `calling.py` calls them so.

A custom timetable subclasses `Timetable` exactly as Airflow documents it ("Customizing DAG
Scheduling with Timetables"): ``next_dagrun_info``, ``infer_manual_data_interval``, and
``serialize``/``deserialize`` when it has arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple


def ensure_aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC; refuse a naive datetime (its meaning would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def current_time(now: datetime | None) -> datetime:
    """``now`` in UTC, or the clock's time when the caller (a custom timetable, Airflow's
    signature) gives none."""
    return datetime.now(UTC) if now is None else ensure_aware(now, "now")


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
    # Airflow computes it from the interval; custom timetables build DagRunInfo(run_after=...,
    # data_interval=...) without it.
    logical_date: datetime = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.logical_date is None:
            object.__setattr__(self, "logical_date", self.data_interval.start)

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
    #: Airflow's attributes a custom timetable may set; we accept only their defaults
    #: (`calling.check_supported` refuses others by name rather than ignore them).
    active_runs_limit: int | None = None
    run_ordering: tuple[str, ...] = ("data_interval_end", "logical_date")

    @property
    def summary(self) -> str:
        """A short label for the schedule; defaults to the class name, as in Airflow."""
        return type(self).__name__

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        """The next automated run after the last one, or None if there will be none.

        The answer may lie in the future: the scheduler creates the run once ``run_after``
        has passed. ``last_automated_data_interval`` ignores manual runs, as in Airflow.
        """
        raise NotImplementedError

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The data interval a manually triggered run at ``run_after`` should cover."""
        raise NotImplementedError

    def validate(self) -> None:
        """Raise if the timetable's arguments are unusable (Airflow calls it at parse time)."""

    def serialize(self) -> dict[str, Any]:
        """The JSON-able arguments `deserialize` rebuilds this timetable from."""
        return {}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary!r}>"
