"""EventsTimetable: runs at listed moments (Airflow 3's semantics)."""

from __future__ import annotations

from datetime import datetime

import pendulum

from dagruns.sdk.timetables import DataInterval, EventsTimetable
from tests.dagruns.sdk.timetables.timetable_helpers import catchup_runs, first, utc

EVENTS = EventsTimetable(
    [
        pendulum.datetime(2024, 3, 10, 14, tz="Europe/London"),
        pendulum.datetime(2024, 1, 5, 9, tz="UTC"),
        pendulum.datetime(2024, 2, 1, 9, tz="UTC"),
        pendulum.datetime(2024, 2, 1, 9, tz="UTC"),  # a duplicate counts once
    ]
)


def test_catchup_runs_each_event_once_in_order_then_stops():
    runs = catchup_runs(EVENTS, start=utc(2024, 1, 1), now=utc(2024, 12, 31))
    assert [r.run_after for r in runs] == [
        utc(2024, 1, 5, 9),
        utc(2024, 2, 1, 9),
        utc(2024, 3, 10, 14),
    ]
    assert all(r.data_interval == DataInterval.exact(r.run_after) for r in runs)


def test_without_catchup_events_before_now_are_skipped():
    info = first(EVENTS, start=utc(2024, 1, 1), now=utc(2024, 1, 20))
    assert info is not None and info.run_after == utc(2024, 2, 1, 9)


def test_events_before_the_start_date_or_after_the_end_date_do_not_run():
    info = first(EVENTS, start=utc(2024, 1, 6), now=utc(2024, 1, 1), catchup=True)
    assert info is not None and info.run_after == utc(2024, 2, 1, 9)
    last = DataInterval.exact(utc(2024, 2, 1, 9))
    assert (
        first(EVENTS, start=None, now=utc(2024, 1, 1), catchup=True, last=last, end=utc(2024, 3, 1))
        is None
    )


def test_a_manual_run_covers_the_moment_unless_restricted_to_events():
    assert EVENTS.infer_manual_data_interval(utc(2024, 2, 20)) == DataInterval.exact(
        utc(2024, 2, 20)
    )
    restricted = EventsTimetable(EVENTS.event_dates, restrict_to_events=True)
    assert restricted.infer_manual_data_interval(utc(2024, 2, 20)) == DataInterval.exact(
        utc(2024, 2, 1, 9)
    )
    # Before the first event: the first event.
    assert restricted.infer_manual_data_interval(utc(2023, 1, 1)) == DataInterval.exact(
        utc(2024, 1, 5, 9)
    )


def test_a_naive_event_is_utc_like_every_naive_date_in_a_dag_file():
    timetable = EventsTimetable([datetime(2024, 5, 1, 12)])
    assert timetable.event_dates == [utc(2024, 5, 1, 12)]


def test_description_and_summary_are_airflows_and_survive_serialization():
    assert EVENTS.summary == "3 events"
    assert EVENTS.description.startswith("3 events between 2024-01-05T09:00:00+00:00 and")
    assert EventsTimetable.deserialize(EVENTS.serialize()) == EVENTS
    named = EventsTimetable([utc(2024, 1, 1)], description="Match days")
    assert EventsTimetable.deserialize(named.serialize()).summary == "Match days"
