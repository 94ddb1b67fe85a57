"""Fixed-step arithmetic for the timedelta timetables (Airflow ``timetables/_delta.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class DeltaMixin:
    """Fixed-step arithmetic for the timedelta timetables (Airflow ``DeltaMixin``).

    Steps are absolute durations (in UTC), and every instant is "aligned".
    """

    def __init__(self, delta: timedelta) -> None:
        if not isinstance(delta, timedelta) or delta <= timedelta(0):
            raise ValueError(f"schedule interval must be a positive timedelta, not {delta!r}")
        # A pendulum Duration is a timedelta subclass with its own str(): keep a plain one.
        self._delta = timedelta(delta.days, delta.seconds, delta.microseconds)
        self.description = f"Every {delta}"

    @property
    def delta(self) -> timedelta:
        """The time between runs."""
        return self._delta

    @property
    def summary(self) -> str:
        return str(self._delta)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._delta == other._delta

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._delta))

    def _get_next(self, current: datetime) -> datetime:
        return current.astimezone(UTC) + self._delta

    def _get_prev(self, current: datetime) -> datetime:
        return current.astimezone(UTC) - self._delta

    def _align_to_next(self, current: datetime) -> datetime:
        return current.astimezone(UTC)

    def _align_to_prev(self, current: datetime) -> datetime:
        return current.astimezone(UTC)
