"""Formatting numbers people read: durations, bytes, times."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Keys whose numbers are seconds or bytes wherever the system records them (try fields,
# audit extras), shown in human units.
SECONDS_KEYS = frozenset({"duration", "cpu_time"})
BYTES_KEYS = frozenset({"peak_memory", "size"})


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


def when(value: datetime | None) -> str:
    """ISO-like UTC time to the second, as Airflow shows it."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def detail_value(key: str, value: Any) -> str:
    """One recorded value for people: seconds and bytes in human units, the rest as JSON."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key in SECONDS_KEYS:
            return duration(value)
        if key in BYTES_KEYS:
            return size(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def details(extra: Mapping[str, Any] | None) -> str:
    """`duration 75 ms · peak_memory 26.3 MiB · state failed` (keys sorted)."""
    if not extra:
        return ""
    return " · ".join(f"{key} {detail_value(key, extra[key])}" for key in sorted(extra))
