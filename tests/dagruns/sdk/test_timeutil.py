from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.timeutil import parse_timezone, timezone_name, timezone_of, to_timedelta, to_utc


def test_to_utc_treats_naive_values_as_utc_and_converts_aware_ones():
    assert to_utc(datetime(2024, 1, 1)) == datetime(2024, 1, 1, tzinfo=UTC)
    assert to_utc(datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))).hour == 0
    assert to_utc(None) is None
    with pytest.raises(DagDefinitionError, match="start_date"):
        to_utc("2024-01-01", "start_date")


def test_to_timedelta_accepts_seconds():
    assert to_timedelta(1.5, "x") == timedelta(seconds=1.5)
    assert to_timedelta(None, "x") is None
    with pytest.raises(DagDefinitionError, match="retry_delay"):
        to_timedelta("5m", "retry_delay")
    with pytest.raises(DagDefinitionError):
        to_timedelta(True, "flag")


@pytest.mark.parametrize(
    ("tz", "name"),
    [
        (UTC, "UTC"),
        (ZoneInfo("Asia/Kolkata"), "Asia/Kolkata"),
        (timezone(timedelta(hours=-3, minutes=-30)), "-03:30"),
    ],
)
def test_timezone_names_round_trip(tz, name):
    assert timezone_name(tz) == name
    assert timezone_name(parse_timezone(name)) == name


def test_an_unknown_timezone_name_is_an_error():
    with pytest.raises(DagDefinitionError, match="Mars/Olympus"):
        parse_timezone("Mars/Olympus")


def test_timezone_of_a_naive_or_missing_date_is_utc():
    assert timezone_of(None) is UTC
    assert timezone_of(datetime(2024, 1, 1)) is UTC
