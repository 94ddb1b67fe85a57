"""The viewer's timezone: which names are zones, and which zone a request or socket asked for.

Every date the dashboard shows is stored in UTC and shown in the viewer's zone, chosen in the
page header (dagruns/views/timezone.py) and remembered in a cookie. A cookie rather than the
session: like Airflow 3's UI (which keeps it in the browser's localStorage) the choice belongs
to the browser, survives logging out and in and session expiry, costs no database write, and
reaches the websocket consumer in the handshake's headers, so live fragments are rendered in
the same zone as the page. Default: UTC, as Airflow's `default_ui_timezone`.

A name that is not an IANA zone (a tampered cookie or form) is never an error: it is ignored
and the default used.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, tzinfo
from functools import lru_cache

COOKIE_NAME = "orch_timezone"
COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT_ZONE_NAME = "UTC"
# Longer than any IANA name (the longest is about 32 characters): refused before any lookup.
MAX_NAME_LENGTH = 64


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's tz database knows."""
    return frozenset(zoneinfo.available_timezones()) | {DEFAULT_ZONE_NAME}


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    return UTC if name == DEFAULT_ZONE_NAME else zoneinfo.ZoneInfo(name)


def zone_named(name: str | None) -> tzinfo | None:
    """The zone called `name`, or None when it is not one (only names of the tz database are
    looked up: ZoneInfo would also open a path-like name as a file)."""
    if not name or len(name) > MAX_NAME_LENGTH or name not in zone_names():
        return None
    return _zone(name)


def zone_or_default(name: str | None) -> tuple[str, tzinfo]:
    """The asked-for zone's name and zone, or the default's when the name is not a zone."""
    zone = zone_named(name)
    if zone is None:
        return DEFAULT_ZONE_NAME, UTC
    return name or DEFAULT_ZONE_NAME, zone


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone (`Europe/Paris`; `UTC` for the UTC singleton)."""
    return getattr(zone, "key", None) or DEFAULT_ZONE_NAME
