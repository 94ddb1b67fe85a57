"""BranchDateTimeOperator and BranchDayOfWeekOperator decide as Airflow's do."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from dagruns.sdk import (
    DAG,
    BranchDateTimeOperator,
    BranchDayOfWeekOperator,
    DagDefinitionError,
    EmptyOperator,
    WeekDay,
)
from dagruns.sdk.operators.datetime import target_times_as_dates

from ..conftest import FakeTI

UTC = dt.UTC


def _window(lower, upper, start_date=dt.datetime(2024, 1, 1)):
    with DAG("d", start_date=start_date):
        op = BranchDateTimeOperator(
            task_id="check",
            target_lower=lower,
            target_upper=upper,
            use_task_logical_date=True,
            follow_task_ids_if_true="yes",
            follow_task_ids_if_false="no",
        )
        op >> [EmptyOperator(task_id="yes"), EmptyOperator(task_id="no")]
    return op


def _at(when: dt.datetime) -> dict:
    return {"ti": FakeTI(), "logical_date": when}


def test_times_are_put_on_the_compared_date_and_a_window_may_cross_midnight():
    base = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    lower, upper = target_times_as_dates(base, dt.time(22), dt.time(2))
    assert (lower, upper) == (dt.datetime(2024, 6, 3, 22), dt.datetime(2024, 6, 4, 2))


@pytest.mark.parametrize(
    ("hour", "branch"), [(9, "no"), (10, "yes"), (15, "yes"), (16, "yes"), (17, "no")]
)
def test_the_window_bounds_are_inclusive(hour, branch):
    op = _window(dt.time(10), dt.time(16))
    assert op.execute(_at(dt.datetime(2024, 6, 3, hour, tzinfo=UTC))) == branch


def test_an_open_bound_and_datetime_bounds():
    only_upper = _window(None, dt.datetime(2024, 6, 3, tzinfo=UTC))
    assert only_upper.execute(_at(dt.datetime(2024, 6, 2, tzinfo=UTC))) == "yes"
    assert only_upper.execute(_at(dt.datetime(2024, 6, 4, tzinfo=UTC))) == "no"


def test_naive_bounds_are_in_the_dags_timezone():
    paris = ZoneInfo("Europe/Paris")
    op = _window(dt.time(9), dt.time(10), start_date=dt.datetime(2024, 1, 1, tzinfo=paris))
    # 07:30 UTC is 09:30 in Paris (summer time): inside the window.
    assert op.execute(_at(dt.datetime(2024, 6, 3, 7, 30, tzinfo=UTC))) == "yes"
    assert op.execute(_at(dt.datetime(2024, 6, 3, 9, 30, tzinfo=UTC))) == "no"


def test_without_logical_date_the_runs_run_after_is_compared():
    op = _window(dt.time(10), dt.time(16))
    context = {
        "ti": FakeTI(),
        "logical_date": None,
        "dag_run": SimpleNamespace(run_after=dt.datetime(2024, 6, 3, 11, tzinfo=UTC)),
    }
    assert op.execute(context) == "yes"


def test_bad_bounds_are_refused_at_definition():
    with DAG("d"), pytest.raises(DagDefinitionError, match="At least one must be defined"):
        BranchDateTimeOperator(
            task_id="t",
            target_lower=None,
            target_upper=None,
            follow_task_ids_if_true="a",
            follow_task_ids_if_false="b",
        )
    with DAG("d2"), pytest.raises(DagDefinitionError, match="target_upper must be"):
        BranchDateTimeOperator(
            task_id="t",
            target_lower=None,
            target_upper="10:00",
            follow_task_ids_if_true="a",
            follow_task_ids_if_false="b",
        )


def _weekday(week_day):
    with DAG("w"):
        op = BranchDayOfWeekOperator(
            task_id="check",
            week_day=week_day,
            use_task_logical_date=True,
            follow_task_ids_if_true=["weekend"],
            follow_task_ids_if_false="workday",
        )
        op >> [EmptyOperator(task_id="weekend"), EmptyOperator(task_id="workday")]
    return op


@pytest.mark.parametrize(
    "week_day", ["Saturday", WeekDay.SATURDAY, {"saturday", "SUNDAY"}, [WeekDay.SATURDAY]]
)
def test_day_of_week_takes_names_weekdays_and_sets(week_day):
    op = _weekday(week_day)
    saturday, monday = dt.datetime(2024, 6, 1, tzinfo=UTC), dt.datetime(2024, 6, 3, tzinfo=UTC)
    assert op.execute(_at(saturday)) == ["weekend"]
    assert op.execute(_at(monday)) == "workday"


def test_an_unknown_week_day_name_fails_the_dag_naming_task_and_day():
    with pytest.raises(DagDefinitionError, match="Task 'check': week_day: .*\"Caturday\""):
        _weekday({"Saturday", "Caturday"})
