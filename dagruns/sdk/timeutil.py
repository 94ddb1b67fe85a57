"""Small conversions for datetimes and durations that DAG authors pass in many shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import DagDefinitionError

_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def to_utc(value: datetime | None, name: str = "date") -> datetime | None:
    """Convert to an aware UTC datetime; a naive value is taken as UTC (Airflow's default
    timezone), never rejected."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DagDefinitionError(
            f"{name} must be a datetime, got {type(value).__name__}: {value!r}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    # A pendulum DateTime (what Airflow DAG files pass) becomes a plain datetime, so what the
    # DAG stores and compares is one type whatever the file used.
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


def to_timedelta(value: timedelta | float | int | None, name: str) -> timedelta | None:
    """Accept a timedelta (``pendulum.duration`` is one) or a number of seconds; None stays
    None."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return timedelta(value.days, value.seconds, value.microseconds)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DagDefinitionError(
            f"{name} must be a timedelta or a number of seconds, got {type(value).__name__}: {value!r}"
        )
    return timedelta(seconds=value)


def timezone_of(value: datetime | None) -> tzinfo:
    """The timezone a DAG's schedule is evaluated in: that of its start_date, else UTC."""
    if value is None or value.tzinfo is None or value.utcoffset() is None:
        return UTC
    return value.tzinfo


def timezone_name(tz: tzinfo) -> str:
    """A name ``parse_timezone`` turns back into an equivalent timezone."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is UTC:
        return "UTC"
    offset = tz.utcoffset(None)
    if offset is None:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_timezone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    match = _OFFSET_RE.match(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise DagDefinitionError(f"Unknown timezone {name!r}") from err


def isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_isoformat(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None
