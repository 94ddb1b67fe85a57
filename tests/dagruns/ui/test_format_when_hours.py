"""`when` writes a date the way its exact computation does (`astimezone`, `strftime`,
`tzname`), also where it takes its fast way (the offset and abbreviation found once per zone
and UTC hour): in zones with summer time, half- and quarter-hour offsets, 30-minute summer
shifts, abbreviations that are offsets, and minute by minute around every transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dagruns.ui.format import exact_when, when

ZONES = [
    UTC,
    ZoneInfo("UTC"),
    ZoneInfo("Europe/Paris"),
    ZoneInfo("America/St_Johns"),  # -03:30, summer time
    ZoneInfo("Asia/Kolkata"),  # +05:30
    ZoneInfo("Australia/Lord_Howe"),  # +10:30, a 30-minute summer shift at xx:30 UTC
    ZoneInfo("Pacific/Chatham"),  # +12:45
    ZoneInfo("America/Sao_Paulo"),  # abbreviation `-03`
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    timezone(timedelta(hours=-9, minutes=-30)),
]


def transitions(zone, start: datetime, end: datetime) -> list[datetime]:
    """The UTC hours in which the zone's offset or abbreviation changes."""
    found, hour = [], start
    before = hour.astimezone(zone)
    while hour < end:
        after = (hour + timedelta(hours=1)).astimezone(zone)
        if (after.utcoffset(), after.tzname()) != (before.utcoffset(), before.tzname()):
            found.append(hour)
        hour, before = hour + timedelta(hours=1), after
    return found


def test_every_minute_around_each_transition_is_written_as_exactly():
    checked = 0
    for zone in ZONES:
        for year in (1975, 2024, 2045):  # a past rule, today's, and the POSIX rule ahead
            start = datetime(year, 1, 1, tzinfo=UTC)
            for hour in transitions(zone, start, start + timedelta(days=366)):
                moment = hour - timedelta(hours=1)
                while moment < hour + timedelta(hours=2):
                    for value in (moment, moment + timedelta(seconds=59, microseconds=999_999)):
                        assert when(value, zone) == exact_when(value, zone), (zone, value)
                        checked += 1
                    moment += timedelta(minutes=1)
    # Europe/Paris alone has two transitions a year: the loops above really ran.
    assert checked > 5_000


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    zone=st.sampled_from(ZONES),
)
def test_any_moment_in_any_zone_is_written_as_exactly(moment, zone):
    value = moment.replace(tzinfo=UTC)
    assert when(value, zone) == exact_when(value, zone)


def test_naive_and_other_zone_values_are_the_moment_they_name():
    paris = ZoneInfo("Europe/Paris")
    naive = datetime(2024, 3, 31, 0, 59, 59)  # taken as UTC, as everything is stored
    assert when(naive, paris) == exact_when(naive, paris) == "2024-03-31 01:59:59 CET"
    in_kolkata = datetime(2024, 3, 31, 6, 30, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert when(in_kolkata, paris) == "2024-03-31 03:00:00 CEST"


def test_a_carry_into_the_next_local_hour_and_day_is_written():
    chatham = ZoneInfo("Pacific/Chatham")  # +13:45 in January
    assert when(datetime(2024, 1, 1, 10, 14, 5, tzinfo=UTC), chatham) == "2024-01-01 23:59:05 +1345"
    assert when(datetime(2024, 1, 1, 10, 15, 5, tzinfo=UTC), chatham) == "2024-01-02 00:00:05 +1345"
