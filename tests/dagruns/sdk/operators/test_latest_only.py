"""LatestOnlyOperator: which runs are "the latest" (Airflow's window rule)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from dagruns.sdk import DAG, AirflowException, EmptyOperator, LatestOnlyOperator

from ..conftest import FakeTI

UTC = dt.UTC


def _latest_only(schedule, start=dt.datetime(2020, 1, 1, tzinfo=UTC), **dag_kwargs):
    with DAG("d", schedule=schedule, start_date=start, **dag_kwargs):
        op = LatestOnlyOperator(task_id="latest_only")
        op >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    return op


def _run(run_type="scheduled", logical=None, start=None, end=None):
    return {
        "ti": FakeTI(),
        "dag_run": SimpleNamespace(
            run_type=run_type,
            logical_date=logical,
            run_after=logical,
            data_interval_start=start,
            data_interval_end=end,
        ),
    }


def test_a_manual_run_always_proceeds():
    op = _latest_only("@daily")
    old = dt.datetime(2020, 1, 2, tzinfo=UTC)
    assert op.execute(_run("manual", old, old, old)) == ["a", "b"]


def test_an_old_scheduled_run_skips_its_direct_downstream():
    op = _latest_only("@daily")
    old = dt.datetime(2020, 1, 2, tzinfo=UTC)
    assert op.execute(_run("scheduled", old, old, old)) == []


def test_the_run_of_the_current_interval_proceeds():
    op = _latest_only("@hourly")
    this_hour = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert op.execute(_run("scheduled", this_hour, this_hour, this_hour)) == ["a", "b"]
    # A data-interval run covering the previous hour ends now-ish: also the latest.
    previous = this_hour - dt.timedelta(hours=1)
    assert op.execute(_run("scheduled", previous, previous, this_hour)) == ["a", "b"]


def test_delta_schedules_step_by_their_interval():
    op = _latest_only(dt.timedelta(days=2))
    recent = dt.datetime.now(UTC) - dt.timedelta(days=1)
    stale = dt.datetime.now(UTC) - dt.timedelta(days=3)
    assert op.execute(_run("scheduled", recent, recent, recent)) == ["a", "b"]
    assert op.execute(_run("scheduled", stale, stale, stale)) == []


def test_a_run_with_no_next_interval_is_the_last_one_and_proceeds():
    op = _latest_only("@once")
    old = dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert op.execute(_run("scheduled", old, old, old)) == ["a", "b"]


def test_the_dags_end_date_does_not_make_an_old_run_the_latest():
    # Airflow asks the timetable without the DAG's start/end restriction.
    ended = _latest_only("@daily", end_date=dt.datetime(2020, 1, 5, tzinfo=UTC))
    last = dt.datetime(2020, 1, 5, tzinfo=UTC)
    assert ended.execute(_run("scheduled", last, last, last)) == []


def test_a_timetable_object_is_asked_for_the_next_run():
    class EveryTwoHours:
        def next_dagrun_info(self, *, last_automated_data_interval, restriction):
            end = last_automated_data_interval.end + dt.timedelta(hours=2)
            assert restriction.earliest == last_automated_data_interval.end
            return SimpleNamespace(data_interval=SimpleNamespace(start=end, end=end))

    op = _latest_only("@daily")
    op.dag.timetable = SimpleNamespace(timetable=EveryTwoHours())
    now = dt.datetime.now(UTC)
    recent, stale = now - dt.timedelta(hours=1), now - dt.timedelta(hours=3)
    assert op.execute(_run("scheduled", recent, recent, recent)) == ["a", "b"]
    assert op.execute(_run("scheduled", stale, stale, stale)) == []


def test_a_schedule_it_cannot_step_is_an_error_not_a_guess():
    op = _latest_only("@daily")
    op.dag.timetable = object()  # e.g. a custom timetable without Airflow's interface
    now = dt.datetime.now(UTC)
    with pytest.raises(AirflowException, match="does not support the schedule object"):
        op.execute(_run("scheduled", now, now, now))
