"""``schedule=<a Timetable object>``: stored as its class and ``serialize()`` output, rebuilt
by the scheduler (built-ins always; custom classes only if a plugin registered them)."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest

from dagruns.sdk import DAG
from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.serialization import deserialize_dag, serialize_dag
from dagruns.sdk.timetables import (
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DeltaDataIntervalTimetable,
    DeltaTriggerTimetable,
    EventsTimetable,
    MultipleCronTriggerTimetable,
    NullTimetable,
    OnceTimetable,
    Timetable,
    TimetableNotRegistered,
    timetable_from_schedule,
)
from dagruns.sdk.timetables.registry import UnregisteredTimetable
from tests.dagruns.sdk.timetables.timetable_helpers import utc

AMSTERDAM = pendulum.timezone("Europe/Amsterdam")

BUILT_INS = [
    CronTriggerTimetable("@daily", timezone=AMSTERDAM, interval=timedelta(hours=1)),
    CronTriggerTimetable("0 6 * * 1-5", timezone="UTC", run_immediately=timedelta(minutes=3)),
    CronDataIntervalTimetable("0 */2 * * *", pendulum.FixedTimezone(5 * 3600)),
    DeltaTriggerTimetable(timedelta(hours=6), interval=timedelta(hours=6)),
    DeltaDataIntervalTimetable(pendulum.duration(days=1)),
    MultipleCronTriggerTimetable("0 6 * * *", "0 18 * * *", timezone=AMSTERDAM),
    EventsTimetable([utc(2024, 1, 1), utc(2024, 6, 1)], restrict_to_events=True),
    NullTimetable(),
    OnceTimetable(),
]


@pytest.mark.parametrize("timetable", BUILT_INS, ids=lambda t: type(t).__name__)
def test_a_built_in_timetable_object_survives_the_serialized_dag(timetable):
    dag = DAG("tt", schedule=timetable, start_date=utc(2024, 1, 1))
    data = serialize_dag(dag)
    assert data["schedule"]["type"] == "timetable"
    rebuilt = timetable_from_schedule(data["schedule"])
    assert type(rebuilt) is type(timetable) and rebuilt == timetable
    assert rebuilt.summary == timetable.summary
    assert serialize_dag(deserialize_dag(data))["schedule"] == data["schedule"]


def test_a_preset_stays_a_preset_and_the_zone_is_kept():
    timetable = CronTriggerTimetable("@daily", timezone=AMSTERDAM)
    data = DAG("tt", schedule=timetable).timetable.serialize()
    assert data["data"]["expression"] == "@daily"
    assert data["data"]["timezone"] == "Europe/Amsterdam"


class EveryOtherDay(Timetable):
    """A custom timetable written as Airflow documents them (pendulum methods included)."""

    def __init__(self, hour: int = 6) -> None:
        self.hour = hour

    def serialize(self):
        return {"hour": self.hour}

    @classmethod
    def deserialize(cls, data):
        return cls(data["hour"])

    def infer_manual_data_interval(self, *, run_after):
        start = run_after.subtract(days=2)
        return DataInterval(start=start, end=run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        if last_automated_data_interval is not None:
            start = last_automated_data_interval.end
        elif restriction.earliest is None:
            return None
        else:
            start = restriction.earliest.set(hour=self.hour, minute=0, second=0)
        return DagRunInfo.interval(start=start, end=start.add(days=2))


def test_a_custom_timetable_is_stored_by_class_and_rebuilt_only_if_registered():
    data = DAG("custom", schedule=EveryOtherDay(9)).timetable.serialize()
    path = f"{__name__}.EveryOtherDay"
    assert data == {"type": "timetable", "class": path, "data": {"hour": 9}}
    with pytest.raises(TimetableNotRegistered, match=r"is not registered.*ORCH_PLUGINS_FOLDER"):
        timetable_from_schedule(data)
    rebuilt = timetable_from_schedule(data, plugin_timetables={path: EveryOtherDay})
    assert isinstance(rebuilt, EveryOtherDay) and rebuilt.hour == 9


def test_a_deserialized_dag_keeps_an_unknown_custom_timetable_as_it_was_stored():
    data = serialize_dag(DAG("custom", schedule=EveryOtherDay(9)))
    again = deserialize_dag(data)
    assert isinstance(again.timetable.timetable, UnregisteredTimetable)
    assert serialize_dag(again)["schedule"] == data["schedule"]


class NotStorable(EveryOtherDay):
    def serialize(self):
        return {"when": object()}


class Invalid(EveryOtherDay):
    def validate(self):
        raise ValueError("hour must be before noon")


class LimitsRuns(EveryOtherDay):
    active_runs_limit = 1


class NamesRuns(EveryOtherDay):
    def generate_run_id(self, *, run_type, run_after, data_interval, **extra):
        return f"custom_{run_after}"


@pytest.mark.parametrize(
    ("timetable", "problem"),
    [
        (NotStorable(), r"NotStorable cannot be stored: its serialize\(\) must return a JSON-able"),
        (Invalid(), r"Invalid is invalid: ValueError: hour must be before noon"),
        (LimitsRuns(), r"LimitsRuns sets active_runs_limit"),
        (NamesRuns(), r"NamesRuns overrides generate_run_id"),
    ],
)
def test_a_broken_custom_timetable_fails_the_dag_file_naming_dag_and_timetable(timetable, problem):
    with pytest.raises(DagDefinitionError, match=rf"DAG 'custom': timetable .*{problem}"):
        DAG("custom", schedule=timetable)


def test_arguments_airflow_accepts_that_we_do_not_are_refused_by_name():
    with pytest.raises(ValueError, match="relativedelta is not supported"):
        CronTriggerTimetable("@daily", timezone="UTC", interval=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown timezone 'Mars/Olympus'"):
        CronTriggerTimetable("@daily", timezone="Mars/Olympus")
