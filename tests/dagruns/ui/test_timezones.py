"""Which names are zones: only the tz database's, so a tampered cookie is never a file path."""

from __future__ import annotations

from datetime import UTC

from dagruns.ui.timezones import zone_name, zone_named, zone_or_default


def test_iana_names_are_zones():
    assert zone_named("UTC") is UTC
    paris = zone_named("Europe/Paris")
    assert paris is not None and zone_name(paris) == "Europe/Paris"
    assert zone_name(UTC) == "UTC"


def test_anything_else_is_not_a_zone_and_falls_back_to_utc():
    for bad in [
        "",
        None,
        "Mars/Olympus",
        "../../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/Paris\x00",
        "x" * 500,
        "europe/paris",
    ]:
        assert zone_named(bad) is None, bad
        assert zone_or_default(bad) == ("UTC", UTC)
    assert zone_or_default("Asia/Tokyo")[0] == "Asia/Tokyo"
