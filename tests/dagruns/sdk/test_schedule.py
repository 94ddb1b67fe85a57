from datetime import timedelta

import pytest

from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.schedule import (
    CronSchedule,
    DeltaSchedule,
    NullSchedule,
    OnceSchedule,
    parse_schedule,
    schedule_from_serialized,
)


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
def test_it_expands_presets_and_remembers_them(preset, expression):
    schedule = parse_schedule(preset)
    assert schedule == CronSchedule(expression, preset=preset)
    assert schedule.serialize() == {"type": "cron", "expression": expression, "preset": preset}


def test_it_keeps_a_plain_cron_expression_without_preset():
    assert parse_schedule("*/5 1-3 * * mon-fri").serialize() == {
        "type": "cron",
        "expression": "*/5 1-3 * * mon-fri",
        "preset": None,
    }


def test_none_means_only_triggered_runs():
    schedule = parse_schedule(None)
    assert schedule == NullSchedule()
    assert schedule.serialize() is None
    assert not schedule.can_be_scheduled


def test_once_and_timedelta_schedules():
    assert parse_schedule("@once") == OnceSchedule()
    assert parse_schedule("@once").serialize() == {"type": "once"}
    assert parse_schedule(timedelta(hours=1)).serialize() == {"type": "delta", "seconds": 3600.0}


@pytest.mark.parametrize(
    "expression", ["61 * * * *", "* * * *", "a b c d e", "0 0 30 2 *", "* * * * * *"]
)
def test_it_rejects_a_bad_cron_expression_naming_it(expression):
    with pytest.raises(DagDefinitionError) as error:
        parse_schedule(expression, "my_dag")
    assert repr(expression) in str(error.value)
    assert "my_dag" in str(error.value)


def test_it_rejects_an_unknown_preset_listing_the_known_ones():
    with pytest.raises(DagDefinitionError, match="@daily"):
        parse_schedule("@fortnightly")


def test_it_rejects_a_non_positive_interval():
    with pytest.raises(DagDefinitionError, match="positive"):
        parse_schedule(timedelta(0))


def test_it_rejects_other_types():
    with pytest.raises(DagDefinitionError, match="unsupported schedule"):
        parse_schedule(3600)


@pytest.mark.parametrize("value", [None, "@once", "@daily", "5 4 * * *", timedelta(minutes=30)])
def test_serialized_form_converts_back_to_the_same_schedule(value):
    schedule = parse_schedule(value)
    assert parse_schedule(schedule_from_serialized(schedule.serialize())) == schedule
    assert isinstance(parse_schedule(timedelta(minutes=1)), DeltaSchedule)
