"""A dateutil relativedelta as the step of the delta timetables and as `schedule=`, as Airflow
accepts it: months step by the calendar, and the step survives serialization."""

from __future__ import annotations

from datetime import datetime

import pytest
from dateutil.relativedelta import FR, relativedelta

from dagruns.sdk import DAG
from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.serialization import serialize_dag
from dagruns.sdk.timetables import (
    DataInterval,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
    timetable_from_schedule,
)
from tests.dagruns.sdk.timetables.timetable_helpers import catchup_runs, first, utc

MONTHLY = DeltaDataIntervalTimetable(relativedelta(months=1))


def test_monthly_windows_follow_the_calendar_with_airflows_day_clamping():
    runs = catchup_runs(MONTHLY, start=utc(2024, 1, 31), now=utc(2024, 4, 30))
    assert [info.data_interval for info in runs] == [
        DataInterval(utc(2024, 1, 31), utc(2024, 2, 29)),
        DataInterval(utc(2024, 2, 29), utc(2024, 3, 29)),
        DataInterval(utc(2024, 3, 29), utc(2024, 4, 29)),
    ]


def test_without_catchup_monthly_windows_step_from_the_start_date():
    info = first(MONTHLY, start=utc(2024, 1, 31), now=utc(2024, 6, 15), catchup=False)
    assert info.data_interval == DataInterval(utc(2024, 4, 29), utc(2024, 5, 29))


def test_a_relativedelta_step_round_trips_through_serialization():
    step = relativedelta(months=1, weekday=FR(-1))
    for timetable in (DeltaDataIntervalTimetable(step), DeltaTriggerTimetable(step)):
        again = type(timetable).deserialize(timetable.serialize())
        assert again == timetable and again.summary == "relativedelta(months=+1, weekday=FR(-1))"


def test_schedule_relativedelta_is_a_delta_schedule_of_either_kind():
    dag = DAG("d", schedule=relativedelta(months=1), start_date=datetime(2024, 1, 1))
    stored = serialize_dag(dag)["schedule"]
    assert stored == {"type": "delta", "relativedelta": {"months": 1}}
    assert timetable_from_schedule(stored) == DeltaTriggerTimetable(relativedelta(months=1))
    assert timetable_from_schedule(stored, create_data_intervals=True) == MONTHLY


@pytest.mark.parametrize("step", [relativedelta(), relativedelta(months=-1)])
def test_a_relativedelta_that_does_not_move_forward_is_refused(step):
    with pytest.raises(DagDefinitionError, match="schedule interval must be positive"):
        DAG("d", schedule=step, start_date=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="must be a positive timedelta or relativedelta"):
        DeltaDataIntervalTimetable(step)


def test_a_malformed_stored_relativedelta_names_itself():
    with pytest.raises(ValueError, match="invalid relativedelta"):
        timetable_from_schedule({"type": "delta", "relativedelta": {"fortnights": 1}})


@pytest.mark.parametrize("argument", ["retry_delay", "max_retry_delay", "execution_timeout"])
def test_task_durations_refuse_a_relativedelta_as_airflows_operators_do(argument):
    from dagruns.sdk import EmptyOperator

    refused = pytest.raises(DagDefinitionError, match=f"{argument} must be a timedelta")
    with DAG("d", schedule=None, start_date=datetime(2024, 1, 1)), refused:
        EmptyOperator(task_id="t", **{argument: relativedelta(minutes=5)})
