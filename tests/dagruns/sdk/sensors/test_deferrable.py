"""deferrable=True: the time sensors and FileSensor hand their wait to the triggerer on the
standard triggers, and resume in execute_complete."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    DagDefinitionError,
    DateTimeSensor,
    DateTimeSensorAsync,
    DateTimeTrigger,
    FileSensor,
    FileTrigger,
    TaskDeferred,
    TimeDeltaSensor,
    TimeDeltaSensorAsync,
    TimeDeltaTrigger,
    TimeSensor,
    TimeSensorAsync,
    WaitSensor,
)
from dagruns.sdk.sensors import temporal

NOW = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(temporal, "_utcnow", lambda: NOW)


def build(cls, **kwargs):
    with DAG("d", start_date=datetime(2024, 1, 1)):
        return cls(task_id="s", **kwargs)


def deferral(sensor, context=None) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(context or {})
    assert info.value.method_name == "execute_complete"
    return info.value


def test_a_deferrable_datetime_sensor_defers_on_its_target_time():
    deferred = deferral(build(DateTimeSensor, target_time="2024-03-07T00:00:00", deferrable=True))
    assert isinstance(deferred.trigger, DateTimeTrigger)
    assert deferred.trigger.moment == datetime(2024, 3, 7, tzinfo=UTC)


def test_a_deferrable_time_sensor_defers_on_todays_target_time():
    sensor = build(TimeSensor, target_time=time(23, 0), deferrable=True)
    deferred = deferral(sensor)
    assert deferred.trigger.moment == sensor.target_datetime


def test_a_deferrable_time_delta_sensor_defers_until_the_interval_end_plus_delta():
    context = {"data_interval_end": NOW}
    deferred = deferral(build(TimeDeltaSensor, delta=timedelta(hours=1), deferrable=True), context)
    assert deferred.trigger.moment == NOW + timedelta(hours=1)


def test_a_deferrable_time_delta_sensor_bounds_its_deferral_by_its_timeout():
    sensor = build(TimeDeltaSensor, delta=timedelta(hours=1), deferrable=True, timeout=90)
    assert deferral(sensor, {"data_interval_end": NOW}).timeout == 90


def test_time_and_datetime_sensors_defer_without_a_timeout_as_airflows_do():
    at = build(DateTimeSensor, target_time="2030-01-01", deferrable=True, timeout=90)
    daily = build(TimeSensor, target_time=time(23, 0), deferrable=True, timeout=90)
    assert deferral(at).timeout is None and deferral(daily).timeout is None


def test_a_deferrable_time_delta_sensor_already_past_its_time_succeeds_at_once():
    sensor = build(TimeDeltaSensor, delta=timedelta(hours=1), deferrable=True)
    assert sensor.execute({"data_interval_end": NOW - timedelta(hours=2)}) is True


def test_a_deferrable_wait_sensor_defers_on_a_time_delta_trigger_that_ends_the_task():
    deferred = deferral(build(WaitSensor, time_to_wait=timedelta(seconds=30), deferrable=True))
    assert isinstance(deferred.trigger, TimeDeltaTrigger)
    assert deferred.trigger.end_from_trigger is True  # as Airflow's WaitSensor


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (TimeSensor, {"target_time": time(23, 0), "deferrable": True}),
        (TimeDeltaSensor, {"delta": timedelta(hours=1), "deferrable": True}),
        (DateTimeSensor, {"target_time": "2030-01-01", "deferrable": True}),
        (TimeSensorAsync, {"target_time": time(23, 0)}),
        (TimeDeltaSensorAsync, {"delta": timedelta(hours=1)}),
        (DateTimeSensorAsync, {"target_time": "2030-01-01"}),
    ],
)
def test_end_from_trigger_reaches_the_time_sensors_trigger(cls, kwargs):
    context = {"data_interval_end": NOW}
    assert deferral(build(cls, **kwargs), context).trigger.end_from_trigger is False
    ended = deferral(build(cls, end_from_trigger=True, **kwargs), context)
    assert ended.trigger.serialize()[1]["end_from_trigger"] is True


# Airflow's *Async time sensors, each with what it needs to be built.
ASYNC_SENSORS = [
    (TimeSensorAsync, {"target_time": time(23, 0)}),
    (TimeDeltaSensorAsync, {"delta": timedelta(hours=1)}),
    (DateTimeSensorAsync, {"target_time": "2030-01-01"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), ASYNC_SENSORS)
def test_the_async_classes_are_the_deferrable_forms(cls, kwargs):
    sensor = build(cls, **kwargs)
    assert sensor.deferrable is True
    deferral(sensor, {"data_interval_end": NOW})


@pytest.mark.parametrize(("cls", "kwargs"), ASYNC_SENSORS)
def test_the_async_classes_refuse_a_deferrable_argument_naming_it(cls, kwargs):
    with pytest.raises(DagDefinitionError, match="takes no 'deferrable' argument"):
        build(cls, deferrable=False, **kwargs)


def test_a_datetime_sensor_reads_its_target_as_airflow_does_and_names_a_bad_one():
    sensor = build(DateTimeSensor, target_time="Jan 5 2030 10:00")
    assert sensor._target() == datetime(2030, 1, 5, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="target_time 'soon' is not a date and time"):
        build(DateTimeSensor, target_time="soon")._target()


@pytest.fixture
def fs_default(monkeypatch, tmp_path):
    from dagruns.sdk.sensors import filesystem

    monkeypatch.setattr(
        filesystem, "FSHook", lambda conn_id: SimpleNamespace(get_path=lambda: str(tmp_path))
    )
    return tmp_path


def test_a_deferrable_file_sensor_defers_on_a_file_trigger_with_the_sensor_timeout(fs_default):
    sensor = build(FileSensor, filepath="in/*.csv", deferrable=True, poke_interval=7, timeout=600)
    deferred = deferral(sensor)
    assert isinstance(deferred.trigger, FileTrigger)
    assert deferred.trigger.serialize()[1] == {
        "filepath": str(fs_default / "in/*.csv"),
        "recursive": False,
        "poke_interval": 7.0,
    }
    assert deferred.timeout == timedelta(seconds=600)


def test_a_deferrable_file_sensor_whose_file_is_there_does_not_defer(fs_default):
    (fs_default / "ready.txt").write_text("x")
    assert build(FileSensor, filepath="ready.txt", deferrable=True).execute({}) is None


def test_a_file_sensor_resumed_without_its_file_fails():
    sensor = build(FileSensor, filepath="x")
    with pytest.raises(AirflowException, match="s task failed as x not found"):
        sensor.execute_complete({}, event=False)
    assert sensor.execute_complete({}, event=True) is None


def test_a_deferral_timeout_is_the_sensors_timeout():
    sensor = build(DateTimeSensor, target_time="2030-01-01", deferrable=True)
    with pytest.raises(AirflowSensorTimeout, match="Trigger/execution timeout"):
        sensor.resume_execution("__fail__", {"error": "Trigger/execution timeout"}, {})


@pytest.mark.parametrize("error", ["Trigger failure", "Trigger/execution timeout"])
@pytest.mark.parametrize("flag", ["soft_fail", "never_fail"])
def test_a_failed_or_timed_out_deferral_skips_a_soft_fail_or_never_fail_sensor(flag, error):
    sensor = build(DateTimeSensor, target_time="2030-01-01", deferrable=True, **{flag: True})
    with pytest.raises(AirflowSkipException, match=f"due to {flag} is set") as info:
        sensor.resume_execution("__fail__", {"error": error}, {})
    assert error in str(info.value.__cause__)


def test_a_failed_trigger_fails_a_sensor_without_soft_fail():
    failure = {"error": "Trigger failure"}
    hard = build(DateTimeSensor, target_time="2030-01-01", deferrable=True)
    with pytest.raises(AirflowException, match="Trigger failure"):
        hard.resume_execution("__fail__", failure, {})


def test_a_resumed_sensor_completes_in_execute_complete():
    sensor = build(DateTimeSensor, target_time="2030-01-01", deferrable=True)
    assert sensor.resume_execution("execute_complete", {"event": NOW}, {}) is None
