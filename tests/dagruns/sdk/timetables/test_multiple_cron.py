"""MultipleCronTriggerTimetable: a run at every tick of any of its crons (Airflow 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.sdk.timetables import DataInterval, MultipleCronTriggerTimetable
from tests.dagruns.sdk.timetables.timetable_helpers import catchup_runs, first, utc

TWICE_A_DAY = MultipleCronTriggerTimetable("0 6 * * *", "30 18 * * *", timezone="UTC")


def test_catchup_runs_every_tick_of_every_cron_in_time_order():
    runs = catchup_runs(TWICE_A_DAY, start=utc(2024, 1, 1), now=utc(2024, 1, 2, 12))
    assert [r.run_after for r in runs] == [
        utc(2024, 1, 1, 6),
        utc(2024, 1, 1, 18, 30),
        utc(2024, 1, 2, 6),
    ]
    assert all(r.logical_date == r.run_after for r in runs)


def test_a_time_two_crons_share_is_one_run():
    timetable = MultipleCronTriggerTimetable("0 6 * * *", "0 6 * * 1", timezone="UTC")
    runs = catchup_runs(timetable, start=utc(2024, 1, 1), now=utc(2024, 1, 3))  # a Monday
    assert [r.run_after for r in runs] == [utc(2024, 1, 1, 6), utc(2024, 1, 2, 6)]


def test_without_catchup_the_latest_due_tick_of_any_cron_runs():
    info = first(TWICE_A_DAY, start=utc(2024, 1, 1), now=utc(2024, 3, 5, 20))
    assert info is not None and info.run_after == utc(2024, 3, 5, 18, 30)


def test_without_catchup_after_the_last_run_the_soonest_tick_to_come_is_next():
    last = DataInterval(utc(2024, 3, 5, 18, 30), utc(2024, 3, 5, 18, 30))
    info = first(TWICE_A_DAY, start=utc(2024, 1, 1), now=utc(2024, 3, 5, 20), last=last)
    assert info is not None and info.run_after == utc(2024, 3, 6, 6)


def test_crons_are_read_in_the_timezone_given():
    timetable = MultipleCronTriggerTimetable("0 6 * * *", timezone="Europe/Amsterdam")
    info = first(timetable, start=utc(2024, 7, 1), now=utc(2024, 7, 1), catchup=True)
    assert info is not None and info.run_after == utc(2024, 7, 1, 4)  # 06:00 CEST


def test_interval_gives_each_run_a_window_ending_at_its_tick():
    timetable = MultipleCronTriggerTimetable(
        "0 6 * * *", "0 18 * * *", timezone="UTC", interval=timedelta(hours=1)
    )
    info = first(timetable, start=utc(2024, 1, 1), now=utc(2024, 1, 2), catchup=True)
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 1, 5), utc(2024, 1, 1, 6))


def test_it_round_trips_through_serialize_and_shows_all_crons():
    again = MultipleCronTriggerTimetable.deserialize(TWICE_A_DAY.serialize())
    assert again == TWICE_A_DAY
    assert again.summary == "0 6 * * *, 30 18 * * *"


def test_no_cron_at_all_is_refused():
    with pytest.raises(ValueError, match="at least one cron"):
        MultipleCronTriggerTimetable(timezone="UTC")
