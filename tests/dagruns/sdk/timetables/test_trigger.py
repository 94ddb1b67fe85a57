"""Trigger timetables (Airflow 3's default for cron and timedelta schedules), incl. DST."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagruns.sdk.timetables import (
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DeltaTriggerTimetable,
    Timetable,
)
from tests.dagruns.sdk.timetables.timetable_helpers import catchup_runs, first, utc


def run_afters(
    timetable: Timetable, *, start: datetime, now: datetime, end: datetime | None = None
) -> list[datetime]:
    """When each run a catching-up scheduler creates by ``now`` may start."""
    return [info.run_after for info in catchup_runs(timetable, start=start, now=now, end=end)]


DAILY = CronTriggerTimetable("@daily")


# --- catchup -------------------------------------------------------------------------------


def test_catchup_first_run_is_at_start_date_when_it_is_a_tick():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 1, 1)


def test_catchup_first_run_is_the_first_tick_after_start_date():
    info = first(DAILY, start=utc(2024, 1, 1, 10, 15), now=utc(2024, 1, 31, 15), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 1, 2)


def test_catchup_true_creates_every_missed_run_in_order():
    runs = run_afters(DAILY, start=utc(2024, 1, 28), now=utc(2024, 1, 31, 15))
    assert runs == [utc(2024, 1, 28), utc(2024, 1, 29), utc(2024, 1, 30), utc(2024, 1, 31)]


def test_catchup_false_creates_only_the_latest_run():
    # Unpaused at 15:00 on Jan 31 with a start_date a month back: Airflow's
    # CronTriggerTimetable runs the most recent past tick (Jan 31 00:00), none older.
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15))
    assert info == DagRunInfo.exact(utc(2024, 1, 31))


def test_catchup_false_after_a_pause_skips_missed_ticks_but_runs_the_latest():
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        now=utc(2024, 2, 2, 15),
        last=DataInterval.exact(utc(2024, 1, 31)),
    )
    assert info is not None
    assert info.run_after == utc(2024, 2, 2)


def test_catchup_false_waits_for_the_next_tick_once_the_latest_has_run():
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        now=utc(2024, 1, 31, 15),
        last=DataInterval.exact(utc(2024, 1, 31)),
    )
    assert info is not None
    assert info.run_after == utc(2024, 2, 1)


def test_catchup_false_with_a_future_start_date_waits_for_its_first_tick():
    info = first(DAILY, start=utc(2024, 3, 1, 12), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.run_after == utc(2024, 3, 2)


# --- end_date ------------------------------------------------------------------------------


def test_end_date_stops_scheduling():
    runs = run_afters(DAILY, start=utc(2024, 1, 1), end=utc(2024, 1, 3, 12), now=utc(2024, 2, 1))
    assert runs == [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)]


def test_end_date_is_inclusive():
    info = first(
        DAILY,
        start=utc(2024, 1, 1),
        end=utc(2024, 1, 2),
        now=utc(2024, 2, 1),
        catchup=True,
        last=DataInterval.exact(utc(2024, 1, 1)),
    )
    assert info is not None
    assert info.run_after == utc(2024, 1, 2)


def test_no_run_after_end_date_even_without_catchup():
    info = first(DAILY, start=utc(2024, 1, 1), end=utc(2024, 1, 10), now=utc(2024, 1, 31, 15))
    assert info is None


# --- data interval and logical date --------------------------------------------------------


def test_trigger_run_is_a_point_in_time_with_logical_date_equal_to_run_after():
    info = first(DAILY, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.data_interval == DataInterval(utc(2024, 1, 31), utc(2024, 1, 31))
    assert info.logical_date == info.run_after


def test_interval_argument_gives_a_data_interval_ending_at_the_trigger_time():
    # Airflow docs: "every Friday at 18:00 to cover the work week (9:00 Monday to 18:00 Friday)";
    # the logical date is the interval's start, as DagRunInfo.logical_date always is.
    timetable = CronTriggerTimetable("0 18 * * 5", interval=timedelta(days=4, hours=9))
    info = first(timetable, start=utc(2024, 1, 1), now=utc(2024, 1, 5, 19))
    assert info is not None
    assert info.run_after == utc(2024, 1, 5, 18)
    assert info.data_interval == DataInterval(utc(2024, 1, 1, 9), utc(2024, 1, 5, 18))
    assert info.logical_date == utc(2024, 1, 1, 9)


def test_manual_run_covers_only_its_trigger_time():
    run_after = utc(2024, 1, 31, 15, 7)
    assert DAILY.infer_manual_data_interval(run_after) == DataInterval(run_after, run_after)


def test_manual_run_with_interval_covers_the_interval_before_it():
    timetable = CronTriggerTimetable("@daily", interval=timedelta(hours=6))
    interval = timetable.infer_manual_data_interval(utc(2024, 1, 31, 15))
    assert interval == DataInterval(utc(2024, 1, 31, 9), utc(2024, 1, 31, 15))


# --- no start_date (run_immediately) -------------------------------------------------------


def test_without_start_date_a_stale_last_tick_is_skipped_for_the_next_one():
    info = first(DAILY, start=None, now=utc(2024, 1, 31, 15), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 2, 1)


def test_without_start_date_a_recent_last_tick_runs_at_once():
    # Within 10% of the gap between ticks (2.4h for daily) of the last tick.
    info = first(DAILY, start=None, now=utc(2024, 1, 31, 2), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 1, 31)


def test_run_immediately_true_runs_the_last_tick_however_old():
    timetable = CronTriggerTimetable("@daily", run_immediately=True)
    info = first(timetable, start=None, now=utc(2024, 1, 31, 23), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 1, 31)


def test_run_immediately_timedelta_sets_how_recent_the_last_tick_must_be():
    timetable = CronTriggerTimetable("@hourly", run_immediately=timedelta(minutes=2))
    info = first(timetable, start=None, now=utc(2024, 1, 31, 15, 3), catchup=True)
    assert info is not None
    assert info.run_after == utc(2024, 1, 31, 16)


# --- timezones and DST ---------------------------------------------------------------------


def test_cron_is_evaluated_in_the_dag_timezone():
    timetable = CronTriggerTimetable("0 0 * * *", timezone="America/New_York")
    info = first(timetable, start=utc(2024, 1, 10), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.run_after == utc(2024, 1, 31, 5)  # midnight EST


def test_daily_run_at_a_skipped_wall_time_moves_past_the_gap():
    # Europe/Amsterdam jumps from 02:00 to 03:00 on 2024-03-31, so 02:30 does not exist that
    # day. Airflow (make_aware) moves it forward by the gap: 03:30 CEST = 01:30 UTC.
    timetable = CronTriggerTimetable("30 2 * * *", timezone="Europe/Amsterdam")
    runs = run_afters(timetable, start=utc(2024, 3, 29, 12), now=utc(2024, 4, 2))
    assert runs == [
        utc(2024, 3, 30, 1, 30),  # 02:30 CET (+01:00)
        utc(2024, 3, 31, 1, 30),  # 03:30 CEST: the skipped 02:30
        utc(2024, 4, 1, 0, 30),  # 02:30 CEST (+02:00)
    ]


def test_daily_run_at_a_repeated_wall_time_uses_the_second_occurrence():
    # 02:30 happens twice in Amsterdam on 2024-10-27; Airflow schedules the second (CET).
    timetable = CronTriggerTimetable("30 2 * * *", timezone="Europe/Amsterdam")
    runs = run_afters(timetable, start=utc(2024, 10, 26, 12), now=utc(2024, 10, 28, 12))
    assert runs == [utc(2024, 10, 27, 1, 30), utc(2024, 10, 28, 1, 30)]


def test_hourly_schedule_runs_once_per_real_hour_across_fall_back():
    timetable = CronTriggerTimetable("30 * * * *", timezone="Europe/Amsterdam")
    runs = run_afters(timetable, start=utc(2024, 10, 26, 23), now=utc(2024, 10, 27, 3))
    # 01:30 CEST, 02:30 CEST, 02:30 CET, 03:30 CET: the repeated hour is not skipped.
    assert runs == [
        utc(2024, 10, 26, 23, 30),
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 27, 1, 30),
        utc(2024, 10, 27, 2, 30),
    ]


def test_hourly_schedule_has_no_duplicate_run_in_the_missing_spring_hour():
    timetable = CronTriggerTimetable("30 * * * *", timezone="Europe/Amsterdam")
    runs = run_afters(timetable, start=utc(2024, 3, 30, 23), now=utc(2024, 3, 31, 3))
    # 00:30 CET, 01:30 CET, then 03:30 CEST: every real hour gets exactly one run.
    assert runs == [
        utc(2024, 3, 30, 23, 30),
        utc(2024, 3, 31, 0, 30),
        utc(2024, 3, 31, 1, 30),
        utc(2024, 3, 31, 2, 30),
    ]


def test_hourly_on_mondays_stays_on_the_hour_across_a_dst_change_between_mondays():
    timetable = CronTriggerTimetable("0 * * * 1", timezone="Europe/Amsterdam")
    info = first(
        timetable,
        start=None,
        now=utc(2024, 3, 26),
        catchup=True,
        last=DataInterval.exact(utc(2024, 3, 25, 22)),  # Monday 23:00 CET
    )
    assert info is not None
    assert info.run_after == utc(2024, 3, 31, 22)  # Monday 00:00 CEST


def test_catchup_false_in_a_timezone_runs_the_latest_local_tick():
    timetable = CronTriggerTimetable("0 6 * * *", timezone="Asia/Tokyo")
    info = first(timetable, start=utc(2024, 1, 1), now=utc(2024, 1, 31, 15))
    assert info is not None
    assert info.run_after == utc(2024, 1, 30, 21)  # 06:00 JST on Jan 31


# --- DeltaTriggerTimetable -----------------------------------------------------------------

HOURLY_DELTA = DeltaTriggerTimetable(timedelta(hours=1))


def test_delta_catchup_runs_every_delta_from_start_date():
    runs = run_afters(HOURLY_DELTA, start=utc(2024, 1, 31, 12, 10), now=utc(2024, 1, 31, 15))
    assert runs == [utc(2024, 1, 31, 12, 10), utc(2024, 1, 31, 13, 10), utc(2024, 1, 31, 14, 10)]


def test_delta_catchup_false_with_a_past_start_date_runs_now():
    now = utc(2024, 1, 31, 15, 7)
    info = first(HOURLY_DELTA, start=utc(2024, 1, 1), now=now)
    assert info == DagRunInfo.exact(now)


def test_delta_catchup_false_waits_one_delta_after_the_last_run():
    info = first(
        HOURLY_DELTA,
        start=utc(2024, 1, 1),
        now=utc(2024, 1, 31, 15, 20),
        last=DataInterval.exact(utc(2024, 1, 31, 15, 7)),
    )
    assert info is not None
    assert info.run_after == utc(2024, 1, 31, 16, 7)


def test_delta_catchup_false_after_a_pause_runs_now_not_the_missed_ones():
    now = utc(2024, 2, 2, 15)
    info = first(
        HOURLY_DELTA, start=utc(2024, 1, 1), now=now, last=DataInterval.exact(utc(2024, 1, 31))
    )
    assert info is not None
    assert info.run_after == now


def test_delta_trigger_run_is_a_point_in_time():
    info = first(HOURLY_DELTA, start=utc(2024, 1, 31), now=utc(2024, 1, 31, 15), catchup=True)
    assert info == DagRunInfo.exact(utc(2024, 1, 31))


def test_delta_trigger_end_date_stops_scheduling():
    runs = run_afters(
        HOURLY_DELTA, start=utc(2024, 1, 31, 12), end=utc(2024, 1, 31, 13), now=utc(2024, 2, 1)
    )
    assert runs == [utc(2024, 1, 31, 12), utc(2024, 1, 31, 13)]
