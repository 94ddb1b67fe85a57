"""Timetables: which timetable a schedule becomes, how it reads, and the simple ones.

Scheduling details live in test_trigger.py, test_data_interval.py, test_multiple_cron.py and
test_events.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk.timetables import (
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
    NullTimetable,
    OnceTimetable,
    TimeRestriction,
    next_run_after,
    timetable_from_schedule,
    validate_cron,
)
from tests.dagruns.sdk.timetables.timetable_helpers import utc

NOW = datetime(2024, 1, 31, 15, 0, tzinfo=UTC)


def cron(expression: str, preset: str | None = None) -> dict:
    return {"type": "cron", "expression": expression, "preset": preset}


# --- which timetable a schedule becomes -------------------------------------------------


def test_none_schedule_becomes_null_timetable():
    assert isinstance(timetable_from_schedule(None), NullTimetable)


def test_once_schedule_becomes_once_timetable():
    assert isinstance(timetable_from_schedule({"type": "once"}), OnceTimetable)


def test_cron_schedule_becomes_cron_trigger_timetable_by_default():
    assert isinstance(timetable_from_schedule(cron("0 0 * * *")), CronTriggerTimetable)


def test_delta_schedule_becomes_delta_trigger_timetable_by_default():
    timetable = timetable_from_schedule({"type": "delta", "seconds": 3600.0})
    assert isinstance(timetable, DeltaTriggerTimetable)
    assert timetable.delta == timedelta(hours=1)


def test_data_interval_flag_makes_cron_schedule_a_cron_data_interval_timetable():
    timetable = timetable_from_schedule(cron("0 0 * * *"), create_data_intervals=True)
    assert isinstance(timetable, CronDataIntervalTimetable)


def test_data_interval_flag_makes_delta_schedule_a_delta_data_interval_timetable():
    timetable = timetable_from_schedule(
        {"type": "delta", "seconds": 60}, create_data_intervals=True
    )
    assert isinstance(timetable, DeltaDataIntervalTimetable)


def test_data_interval_flag_leaves_once_and_none_alone():
    assert isinstance(timetable_from_schedule(None, create_data_intervals=True), NullTimetable)
    once = timetable_from_schedule({"type": "once"}, create_data_intervals=True)
    assert isinstance(once, OnceTimetable)


def test_cron_schedule_is_evaluated_in_the_given_timezone():
    timetable = timetable_from_schedule(cron("0 0 * * *"), timezone="Europe/Amsterdam")
    assert str(timetable.timezone) == "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("preset", "expression"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@quarterly", "0 0 1 */3 *"),
        ("@yearly", "0 0 1 1 *"),
    ],
)
def test_presets_expand_to_airflows_cron_expressions(preset, expression):
    assert CronTriggerTimetable(preset).expression == expression


def test_unknown_schedule_type_is_rejected():
    with pytest.raises(ValueError, match="unknown type 'continuous'"):
        timetable_from_schedule({"type": "continuous"})


def test_delta_schedule_without_numeric_seconds_is_rejected():
    with pytest.raises(ValueError, match="'seconds' must be a number"):
        timetable_from_schedule({"type": "delta", "seconds": "3600"})


def test_non_positive_delta_is_rejected():
    with pytest.raises(ValueError, match="must be a positive timedelta"):
        timetable_from_schedule({"type": "delta", "seconds": 0})


def test_invalid_cron_in_schedule_is_rejected_with_the_expression_named():
    with pytest.raises(ValueError, match=r"'0 25 \* \* \*'"):
        timetable_from_schedule(cron("0 25 * * *"))


def test_unknown_timezone_is_rejected():
    with pytest.raises(ValueError, match="Unknown timezone 'Mars/Olympus'"):
        timetable_from_schedule(cron("0 0 * * *"), timezone="Mars/Olympus")


# --- summary, description, flags ----------------------------------------------------------


def test_summary_keeps_a_preset_as_written():
    assert timetable_from_schedule(cron("0 0 * * *", preset="@daily")).summary == "@daily"


def test_summary_of_a_plain_cron_is_the_expression():
    assert timetable_from_schedule(cron("*/5 * * * *")).summary == "*/5 * * * *"


def test_summary_ignores_a_preset_that_disagrees_with_the_expression():
    assert timetable_from_schedule(cron("0 6 * * *", preset="@daily")).summary == "0 6 * * *"


def test_cron_description_is_the_schedule_in_words():
    assert timetable_from_schedule(cron("0 0 * * *")).description == "At 00:00"


def test_cron_description_uses_a_24_hour_clock():
    assert timetable_from_schedule(cron("30 21 * * 5")).description == ("At 21:30, only on Friday")


def test_data_interval_cron_is_described_the_same_way():
    timetable = timetable_from_schedule(cron("0 0 * * *"), create_data_intervals=True)
    assert timetable.description == "At 00:00"


def test_delta_description_says_every_interval():
    timetable = timetable_from_schedule({"type": "delta", "seconds": 3600})
    assert timetable.description == "Every 1:00:00"
    assert timetable.summary == "1:00:00"


def test_none_is_described_as_external_triggers_only():
    timetable = NullTimetable()
    assert timetable.description == "Never, external triggers only"
    assert timetable.summary == "None"


def test_once_is_described_as_once_as_soon_as_possible():
    timetable = OnceTimetable()
    assert timetable.description == "Once, as soon as possible"
    assert timetable.summary == "@once"


def test_only_repeating_schedules_are_periodic():
    assert CronTriggerTimetable("@daily").periodic
    assert DeltaTriggerTimetable(timedelta(hours=1)).periodic
    assert not OnceTimetable().periodic
    assert not NullTimetable().periodic


def test_only_the_null_timetable_cannot_be_scheduled():
    assert not NullTimetable().can_be_scheduled
    assert OnceTimetable().can_be_scheduled
    assert CronDataIntervalTimetable("@daily").can_be_scheduled


# --- validate_cron --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["0 0 * * *", "*/15 9-17 * * MON-FRI", "0 0 * * MON#1", "0 0 29 2 *", "@daily"]
)
def test_validate_cron_accepts_valid_expressions(expression):
    validate_cron(expression)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("0 0 * *", "expected 5 fields"),
        ("0 0 0 * * *", "expected 5 fields"),
        ("61 * * * *", "the minute field '61' is not valid .*out of range"),
        ("0 0 * 13 *", "the month field '13' is not valid"),
        ("0 0 * * FUNDAY", "the day-of-week field 'FUNDAY' is not valid"),
        ("@reboot", "unknown preset"),
        ("@once", "'@once' is a schedule of its own"),
        ("0 0 30 2 *", "never matches any date"),
    ],
)
def test_validate_cron_names_the_expression_and_the_problem(expression, problem):
    with pytest.raises(ValueError, match=problem) as excinfo:
        validate_cron(expression)
    assert repr(expression) in str(excinfo.value)


# --- the simple timetables -----------------------------------------------------------------


def test_null_timetable_never_schedules_even_with_start_date_and_catchup():
    info = NullTimetable().next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(utc(2024, 1, 1), None, True),
        now=NOW,
    )
    assert info is None


def test_once_runs_at_start_date():
    info = next_run_after(
        OnceTimetable(),
        last_automated_data_interval=None,
        start_date=utc(2024, 1, 10, 8),
        end_date=None,
        catchup=False,
        now=NOW,
    )
    assert info == DagRunInfo.exact(utc(2024, 1, 10, 8))


def test_once_runs_exactly_once():
    info = next_run_after(
        OnceTimetable(),
        last_automated_data_interval=DataInterval.exact(utc(2024, 1, 10, 8)),
        start_date=utc(2024, 1, 10, 8),
        end_date=None,
        catchup=False,
        now=NOW,
    )
    assert info is None


def test_once_without_start_date_runs_now():
    info = next_run_after(
        OnceTimetable(),
        last_automated_data_interval=None,
        start_date=None,
        end_date=None,
        catchup=False,
        now=NOW,
    )
    assert info is not None
    assert info.run_after == NOW


def test_once_with_future_start_date_waits_for_it():
    start = utc(2024, 3, 1)
    info = next_run_after(
        OnceTimetable(),
        last_automated_data_interval=None,
        start_date=start,
        end_date=None,
        catchup=False,
        now=NOW,
    )
    assert info is not None
    assert info.run_after == start


def test_once_never_runs_when_start_date_is_after_end_date():
    info = next_run_after(
        OnceTimetable(),
        last_automated_data_interval=None,
        start_date=utc(2024, 2, 1),
        end_date=utc(2024, 1, 1),
        catchup=False,
        now=NOW,
    )
    assert info is None


def test_manual_run_of_once_or_none_covers_only_its_trigger_time():
    assert OnceTimetable().infer_manual_data_interval(NOW) == DataInterval(NOW, NOW)
    assert NullTimetable().infer_manual_data_interval(NOW) == DataInterval(NOW, NOW)


# --- next_run_after -------------------------------------------------------------------------


def test_next_run_after_passes_start_end_and_catchup_to_the_timetable():
    info = next_run_after(
        CronTriggerTimetable("@daily"),
        last_automated_data_interval=None,
        start_date=utc(2024, 1, 1),
        end_date=utc(2024, 12, 31),
        catchup=True,
        now=NOW,
    )
    assert info is not None
    assert info.run_after == utc(2024, 1, 1)


def test_next_run_after_is_none_for_a_manual_only_dag():
    info = next_run_after(
        timetable_from_schedule(None),
        last_automated_data_interval=None,
        start_date=utc(2024, 1, 1),
        end_date=None,
        catchup=True,
        now=NOW,
    )
    assert info is None


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        next_run_after(
            CronTriggerTimetable("@daily"),
            last_automated_data_interval=None,
            start_date=None,
            end_date=None,
            catchup=False,
            now=datetime(2024, 1, 31, 15),
        )


def test_results_are_in_utc_whatever_timezone_the_inputs_use():
    amsterdam_start = datetime.fromisoformat("2024-01-10T01:00:00+01:00")
    info = next_run_after(
        CronTriggerTimetable("@daily"),
        last_automated_data_interval=None,
        start_date=amsterdam_start,
        end_date=None,
        catchup=True,
        now=NOW,
    )
    assert info is not None
    assert info.run_after == utc(2024, 1, 10)
    assert info.run_after.tzinfo is UTC
