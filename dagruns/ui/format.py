"""Formatting numbers people read: durations, bytes, times.

One date format everywhere, Airflow 3 UI's: `YYYY-MM-DD HH:mm:ss` and the zone's abbreviation,
in the viewer's zone (the zone `django.utils.timezone` has active: the request's, set by
dagruns.views.timezone.TimezoneMiddleware, or the websocket's). In HTML each date is a
`<time datetime="…UTC…" title="…">` whose title gives the full date, the zone's name and
offset, and the same moment in UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dagruns.ui.timezones import zone_name

# Keys whose numbers are seconds or bytes wherever the system records them (try fields,
# audit extras), shown in human units.
SECONDS_KEYS = frozenset({"duration", "cpu_time"})
BYTES_KEYS = frozenset({"peak_memory", "size"})
ISO_MOMENT_RE = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def duration(seconds: float | None) -> str:
    """`850 ms`, `3.2 s`, `4 min 05 s`, `2 h 03 min`; empty for None."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


def between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def size(num: int | None) -> str:
    """Bytes as `512 B`, `3.4 KiB`, `120.0 MiB`."""
    if num is None:
        return ""
    value = float(num)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


DATE_TIME = "%Y-%m-%d %H:%M:%S"
SHORT_CLOCK = "%m-%d %H:%M:%S"  # narrow tables: the full date is in the title


def viewer_zone() -> tzinfo:
    """The zone dates are shown in for this request or socket (UTC when none is active).
    Callers formatting many dates fetch it once and pass it on: the lookup is not free."""
    return timezone.get_current_timezone()


def local(value: datetime, zone: tzinfo | None = None) -> datetime:
    """`value` in the viewer's zone (a naive value is taken as UTC, as everything is stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone if zone is not None else viewer_zone())


def abbreviation(value: datetime) -> str:
    """`CET`, `UTC`; where a zone has no abbreviation the tz database gives the offset (`-03`)."""
    return value.tzname() or offset(value)


def offset(value: datetime) -> str:
    """`+01:00`, `-03:30`."""
    raw = value.strftime("%z") or "+0000"
    return f"{raw[:3]}:{raw[3:5]}"


def when(value: datetime | None, zone: tzinfo | None = None) -> str:
    """`2026-11-30 01:33:18 CET`: the one date format, in the viewer's zone.

    Pages format thousands of dates (the grid's tooltips: two per cell), most in a few hours of
    UTC. Within an hour where the zone's offset and abbreviation do not change, the local date
    and hour are the same for every moment of the UTC hour (two of them when the offset has
    minutes: before and after the local hour turns), so they are written once per (zone, hour)
    and only minutes and seconds per date: several times cheaper than `astimezone`, `strftime`
    and `tzname` for each. An hour with a transition in it takes the exact way."""
    if value is None:
        return ""
    if zone is None:
        zone = viewer_zone()
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if _FAST_YEARS[0] <= value.year <= _FAST_YEARS[1]:
        hour = _hour_in_zone(zone, value.year, value.month, value.day, value.hour)
        if hour is not None:
            minutes, before_turn, after_turn, name = hour
            minute = value.minute + minutes
            if minute < 60:
                return f"{before_turn}{_TWO_DIGITS[minute]}:{_TWO_DIGITS[value.second]} {name}"
            return f"{after_turn}{_TWO_DIGITS[minute - 60]}:{_TWO_DIGITS[value.second]} {name}"
    return exact_when(value, zone)


def exact_when(value: datetime, zone: tzinfo | None = None) -> str:
    """What `when` writes, computed for this moment alone (the reference of its fast way)."""
    moment = local(value, zone)
    return f"{moment.strftime(DATE_TIME)} {abbreviation(moment)}"


# Years where a UTC hour shifted by any offset (under a day) stays within datetime's range.
_FAST_YEARS = (2, 9998)
_LAST_MICROSECOND = timedelta(hours=1, microseconds=-1)
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))  # minutes and seconds, padded once


@lru_cache(maxsize=4096)
def _hour_in_zone(
    zone: tzinfo, year: int, month: int, day: int, hour: int
) -> tuple[int, str, str, str] | None:
    """For one UTC hour in `zone`: the minutes its offset adds to a moment's minutes, the
    local `YYYY-MM-DD HH:` before and after the local hour turns, and the abbreviation. None
    when the offset or abbreviation differ between the hour's first and last microsecond (a
    transition inside it), or the offset has seconds (local mean times before 1900)."""
    start = datetime(year, month, day, hour, tzinfo=UTC)
    first, last = start.astimezone(zone), (start + _LAST_MICROSECOND).astimezone(zone)
    shift = first.utcoffset()
    name = abbreviation(first)
    if shift is None or shift != last.utcoffset() or name != abbreviation(last):
        return None
    seconds = int(shift.total_seconds())
    if seconds % 60 or shift.microseconds:
        return None
    minutes = seconds % 3600 // 60  # what the offset adds to the minutes (0-59), carry aside
    before_turn = first.strftime("%Y-%m-%d %H:")
    after_turn = (first + timedelta(minutes=60 - minutes)).strftime("%Y-%m-%d %H:")
    return minutes, before_turn, after_turn, name


def clock(value: datetime | None, zone: tzinfo | None = None) -> str:
    """`11-30 01:33:18`: month-day and time in the viewer's zone, for narrow tables."""
    return local(value, zone).strftime(SHORT_CLOCK) if value is not None else ""


def iso_utc(value: datetime) -> str:
    """`2026-11-30T00:33:18Z`: the machine-readable moment of a `<time>` element."""
    return local(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def full_date(value: datetime, zone: tzinfo | None = None) -> str:
    """What hovering a date shows: `Monday 2026-11-30 01:33:18 CET (UTC+01:00, Europe/Paris)
    · 2026-11-30 00:33:18 UTC` (the UTC part left out when the zone is UTC itself)."""
    zone = zone if zone is not None else viewer_zone()
    moment = local(value, zone)
    text = (
        f"{moment.strftime('%A')} {moment.strftime(DATE_TIME)} {abbreviation(moment)} "
        f"(UTC{offset(moment)}, {zone_name(zone)})"
    )
    if zone_name(zone) != "UTC":
        text += f" · {local(value, UTC).strftime(DATE_TIME)} UTC"
    return text


def time_html(
    value: datetime | None, short: bool = False, zone: tzinfo | None = None
) -> SafeString:
    """A date as HTML: `<time datetime="ISO UTC" title="full date">when</time>` (or the short
    clock form); empty for None."""
    if value is None:
        return SafeString("")
    zone = zone if zone is not None else viewer_zone()
    text = clock(value, zone) if short else when(value, zone)
    return mark_safe(
        f'<time datetime="{iso_utc(value)}" title="{escape(full_date(value, zone))}">'
        f"{escape(text)}</time>"
    )


def detail_value(key: str, value: Any) -> str:
    """One recorded value for people: seconds and bytes in human units, the rest as JSON."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key in SECONDS_KEYS:
            return duration(value)
        if key in BYTES_KEYS:
            return size(int(value))
    if isinstance(value, str):
        moment = _iso_moment(value)
        return when(moment) if moment is not None else value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def attribute(key: str, value: Any) -> Any:
    """One attribute of a row as the task page lists it: a date as a `<time>`, seconds and
    bytes (by key) in human units, None left for the template's dash, the rest as it is."""
    if isinstance(value, datetime):
        return time_html(value)
    if key in SECONDS_KEYS | BYTES_KEYS and isinstance(value, int | float):
        return detail_value(key, value)
    return value


def _iso_moment(text: str) -> datetime | None:
    """A recorded ISO date-time with its zone (`2026-11-30T00:33:18+00:00`, as actions store
    `reschedule_date`, `from_date`…), to be shown like every other date; else None."""
    if not ISO_MOMENT_RE.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def details(extra: Mapping[str, Any] | None) -> str:
    """`duration 75 ms · peak_memory 26.3 MiB · state failed` (keys sorted)."""
    if not extra:
        return ""
    return " · ".join(f"{key} {detail_value(key, extra[key])}" for key in sorted(extra))
