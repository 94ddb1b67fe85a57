"""Fixed-step arithmetic for the delta timetables (Airflow ``timetables/_delta.py``), with a
``timedelta`` or a ``dateutil.relativedelta`` step, as Airflow accepts both; and the step's
stored form (Airflow's ``encode_relativedelta`` / ``decode_relativedelta``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from dateutil.relativedelta import relativedelta, weekday

Delta: TypeAlias = timedelta | relativedelta


def check_delta(delta: Any) -> Delta:
    """A positive timedelta (kept plain: a pendulum Duration has its own str()) or
    relativedelta (positive as Airflow's ``validate()`` checks it: now + delta > now)."""
    if isinstance(delta, timedelta) and delta > timedelta(0):
        return timedelta(delta.days, delta.seconds, delta.microseconds)
    if isinstance(delta, relativedelta):
        now = datetime.now(UTC)
        if now + delta > now:
            return delta
    raise ValueError(
        f"schedule interval must be a positive timedelta or relativedelta, not {delta!r}"
    )


def encode_delta(delta: Delta) -> float | dict[str, Any]:
    """Seconds for a timedelta; Airflow's dict of the set fields for a relativedelta."""
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    encoded = {k: v for k, v in vars(delta).items() if not k.startswith("_") and v}
    if delta.weekday is not None:
        # weekday(n): "the n-th Friday"; a bare weekday has no n.
        encoded["weekday"] = [
            delta.weekday.weekday,
            *([delta.weekday.n] if delta.weekday.n else []),
        ]
    return encoded


def decode_delta(value: Any) -> Delta:
    """The inverse of encode_delta; ValueError names a malformed value."""
    if isinstance(value, dict):
        fields = dict(value)
        if "weekday" in fields:
            fields["weekday"] = weekday(*fields["weekday"])
        try:
            return relativedelta(**fields)
        except (TypeError, ValueError) as err:
            raise ValueError(f"invalid relativedelta {value!r}: {err}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"invalid delta {value!r}: expected seconds or a relativedelta's fields")
    return timedelta(seconds=value)


class DeltaMixin:
    """Fixed-step arithmetic for the delta timetables (Airflow ``DeltaMixin``).

    Steps are added in UTC, and every instant is "aligned".
    """

    def __init__(self, delta: Delta) -> None:
        self._delta: Delta = check_delta(delta)
        self.description = f"Every {self._delta}"

    @property
    def delta(self) -> Delta:
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
