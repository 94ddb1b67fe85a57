"""Airflow's ``airflow.utils.timezone`` / ``airflow.sdk.timezone`` helpers, on pendulum.

Same names and rules as Airflow's module: UTC is the default timezone, naive values are taken
as UTC, and the results are pendulum datetimes (a ``datetime`` subclass).
"""

from __future__ import annotations

import datetime as dt
from datetime import tzinfo

import pendulum

__all__ = [
    "coerce_datetime",
    "convert_to_utc",
    "datetime",
    "is_localized",
    "is_naive",
    "make_aware",
    "make_naive",
    "parse",
    "utc",
    "utcnow",
]

utc = pendulum.UTC


def is_localized(value: dt.datetime) -> bool:
    return value.utcoffset() is not None


def is_naive(value: dt.datetime) -> bool:
    return value.utcoffset() is None


def utcnow() -> pendulum.DateTime:
    """The current time, aware, in UTC."""
    return pendulum.now(utc)


def datetime(*args, **kwargs) -> dt.datetime:
    """``datetime.datetime(...)`` with tzinfo defaulting to UTC instead of naive."""
    kwargs.setdefault("tzinfo", utc)
    return dt.datetime(*args, **kwargs)


def _zone(timezone: tzinfo | str | None) -> tzinfo:
    if timezone is None:
        return utc
    if isinstance(timezone, str):
        return pendulum.timezone(timezone)
    return timezone


def make_aware(value: dt.datetime, timezone: tzinfo | str | None = None) -> dt.datetime:
    """Attach ``timezone`` (default UTC) to a naive datetime; an aware one is a ValueError."""
    if is_localized(value):
        raise ValueError(f"make_aware expects a naive datetime, got {value}")
    zone = _zone(timezone)
    convert = getattr(zone, "convert", None)
    if convert is not None:  # pendulum resolves DST gaps and folds as Airflow expects
        return convert(value)
    return value.replace(tzinfo=zone)


def make_naive(value: dt.datetime, timezone: tzinfo | str | None = None) -> dt.datetime:
    """The wall-clock time of an aware datetime in ``timezone`` (default UTC), without tzinfo."""
    if is_naive(value):
        raise ValueError("make_naive() cannot be applied to a naive datetime")
    local = value.astimezone(_zone(timezone))
    return dt.datetime(
        local.year, local.month, local.day, local.hour, local.minute, local.second,
        local.microsecond,
    )  # fmt: skip


def convert_to_utc(value: dt.datetime | None) -> pendulum.DateTime | None:
    """``value`` in UTC; a naive value is taken as UTC already."""
    if value is None:
        return None
    if is_naive(value):
        value = pendulum.instance(value, utc)
    return pendulum.instance(value.astimezone(utc))


def coerce_datetime(
    value: dt.datetime | None, tz: tzinfo | str | None = None
) -> pendulum.DateTime | None:
    """``value`` as a pendulum DateTime; a naive value gets ``tz`` (default UTC)."""
    if value is None:
        return None
    if isinstance(value, pendulum.DateTime):
        return value
    if is_naive(value):
        return pendulum.instance(value, _zone(tz))
    return pendulum.instance(value)


def parse(string: str, timezone: tzinfo | str | None = None) -> pendulum.DateTime:
    """Parse a date/time string (ISO 8601 and friends); without an offset it is in
    ``timezone`` (default UTC)."""
    result = pendulum.parse(string, tz=_zone(timezone), strict=False)
    if not isinstance(result, pendulum.DateTime):
        raise ValueError(f"{string!r} is not a date-time")
    return result
