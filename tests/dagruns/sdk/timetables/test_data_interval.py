"""Data-interval timetables (Airflow 2 semantics, ORCH_CREATE_CRON_DATA_INTERVALS=true)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagruns.sdk.timetables import (
    CronDataIntervalTimetable,
    DagRunInfo,
    DataInterval,
    DeltaDataIntervalTimetable,
    Timetable,
)
from tests.dagruns.sdk.timetables.timetable_helpers import catchup_runs, first, utc


def intervals(
    timetable: Timetable, *, start: datetime, now: datetime, end: datetime | None = None
) -> list[DataInterval]:
    """Every window a catching-up scheduler creates a run for by ``now``."""
    return [info.data_interval for info in catchup_runs(timetable, start=start, now=now, end=end)]


DAILY = CronDataIntervalTimetable("@daily")


# --- CronDataIntervalTimetable -------------------------------------------------------------


def test_first_run_covers_the_first_window_and_waits_for_its_end():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15), catchup=True)
    assert info == DagRunInfo(
        run_after=utc(2024, 1, 2),
        data_interval=DataInterval(utc(2024, 1, 1), utc(2024, 1, 2)),
        logical_date=utc(2024, 1, 1),
    )


def test_logical_date_is_the_start_of_the_data_interval():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.logical_date == info.data_interval.start
    assert info.run_after == info.data_interval.end


def test_catchup_true_windows_are_contiguous_and_complete():
    windows = intervals(DAILY, start=utc(2024, 1, 28, 10), now=utc(2024, 1, 31, 15))
    assert windows == [
        DataInterval(utc(2024, 1, 29), utc(2024, 1, 30)),
        DataInterval(utc(2024, 1, 30), utc(2024, 1, 31)),
    ]


def test_catchup_false_creates_only_the_latest_complete_window():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 30), utc(2024, 1, 31))


def test_catchup_false_exactly_on_a_tick_runs_the_window_ending_now():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31))
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 30), utc(2024, 1, 31))


def test_catchup_false_after_a_pause_skips_to_the_latest_complete_window():
    # Timetable docs: paused Jan 31 15:00, re-enabled Feb 2 15:00 -> Feb 1's window is skipped
    # and the window covering Feb 1 -> Feb 2 runs at once.
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        now=utc(2024, 2, 2, 15),
        last=DataInterval(utc(2024, 1, 30), utc(2024, 1, 31)),
    )
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 2, 1), utc(2024, 2, 2))


def test_catchup_false_with_a_future_start_date_waits_for_it():
    info = first(DAILY, start=utc(2024, 3, 1, 12), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 3, 2), utc(2024, 3, 3))


def test_catchup_without_start_date_schedules_nothing():
    assert first(DAILY, start=None, now=utc(2024, 1, 31, 15), catchup=True) is None


def test_end_date_stops_scheduling_once_a_window_would_start_after_it():
    windows = intervals(DAILY, start=utc(2024, 1, 1), end=utc(2024, 1, 2, 12), now=utc(2024, 2, 1))
    assert windows == [
        DataInterval(utc(2024, 1, 1), utc(2024, 1, 2)),
        DataInterval(utc(2024, 1, 2), utc(2024, 1, 3)),
    ]


def test_switch_from_a_trigger_timetable_does_not_reuse_the_last_logical_date():
    # The last run came from CronTriggerTimetable: a point at Jan 31 00:00 with that logical
    # date. Its window would start there again; Airflow advances one period instead.
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        now=utc(2024, 1, 31, 15),
        catchup=True,
        last=DataInterval.exact(utc(2024, 1, 31)),
    )
    assert info is not None
    assert info.logical_date == utc(2024, 2, 1)


def test_switch_to_a_coarser_cron_does_not_reuse_the_last_logical_date():
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        now=utc(2024, 1, 31, 15),
        catchup=True,
        last=DataInterval(utc(2024, 1, 31), utc(2024, 1, 31, 1)),  # from an hourly schedule
    )
    assert info is not None
    assert info.logical_date == utc(2024, 2, 1)


def test_manual_run_covers_the_last_complete_window():
    assert DAILY.infer_manual_data_interval(utc(2024, 1, 25, 1)) == DataInterval(
        utc(2024, 1, 24), utc(2024, 1, 25)
    )


def test_manual_run_exactly_on_a_tick_covers_the_window_ending_then():
    assert DAILY.infer_manual_data_interval(utc(2024, 1, 25)) == DataInterval(
        utc(2024, 1, 24), utc(2024, 1, 25)
    )


def test_windows_follow_local_midnight_across_spring_forward():
    timetable = CronDataIntervalTimetable("0 0 * * *", "Europe/Amsterdam")
    windows = intervals(timetable, start=utc(2024, 3, 29, 12), now=utc(2024, 4, 2))
    assert windows == [
        DataInterval(utc(2024, 3, 29, 23), utc(2024, 3, 30, 23)),
        DataInterval(utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)),  # a 23-hour day
        DataInterval(utc(2024, 3, 31, 22), utc(2024, 4, 1, 22)),
    ]


def test_windows_around_a_skipped_wall_time_stay_contiguous():
    timetable = CronDataIntervalTimetable("30 2 * * *", "Europe/Amsterdam")
    windows = intervals(timetable, start=utc(2024, 3, 29, 12), now=utc(2024, 4, 2))
    assert windows == [
        DataInterval(utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 30)),
        DataInterval(utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)),
    ]


# --- DeltaDataIntervalTimetable ------------------------------------------------------------

HOURLY = DeltaDataIntervalTimetable(timedelta(hours=1))


def test_delta_catchup_windows_start_at_start_date():
    windows = intervals(HOURLY, start=utc(2024, 1, 31, 12, 10), now=utc(2024, 1, 31, 15))
    assert windows == [
        DataInterval(utc(2024, 1, 31, 12, 10), utc(2024, 1, 31, 13, 10)),
        DataInterval(utc(2024, 1, 31, 13, 10), utc(2024, 1, 31, 14, 10)),
    ]


def test_delta_catchup_false_runs_the_window_ending_at_now_rounded_to_the_delta():
    # Airflow rounds now down to a multiple of the delta since the epoch.
    info = first(HOURLY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15, 40))
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 31, 14), utc(2024, 1, 31, 15))


def test_delta_next_window_starts_where_the_last_ended():
    info = first(
        HOURLY,
        start=utc(2024, 1, 1),
        now=utc(2024, 1, 31, 15, 40),
        catchup=True,
        last=DataInterval(utc(2024, 1, 31, 12, 10), utc(2024, 1, 31, 13, 10)),
    )
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 31, 13, 10), utc(2024, 1, 31, 14, 10))


def test_delta_end_date_stops_scheduling():
    info = first(
        HOURLY,
        start=utc(2024, 1, 1),
        end=utc(2024, 1, 31, 13),
        now=utc(2024, 2, 1),
        catchup=True,
        last=DataInterval(utc(2024, 1, 31, 12, 10), utc(2024, 1, 31, 13, 10)),
    )
    assert info is None


def test_delta_manual_run_covers_one_delta_before_it():
    assert HOURLY.infer_manual_data_interval(utc(2024, 1, 31, 15, 7)) == DataInterval(
        utc(2024, 1, 31, 14, 7), utc(2024, 1, 31, 15, 7)
    )
