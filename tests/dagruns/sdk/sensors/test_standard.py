"""The standard provider's sensors: one poke each, and the arguments they refuse."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    AirflowFailException,
    BashSensor,
    DagDefinitionError,
    DateTimeSensor,
    DayOfWeekSensor,
    FileSensor,
    TimeDeltaSensor,
    TimeSensor,
    WaitSensor,
)
from dagruns.sdk.sensors import temporal


@pytest.fixture
def frozen_now(monkeypatch):
    now = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # a Wednesday
    monkeypatch.setattr(temporal, "_utcnow", lambda: now)
    return now


def build(cls, **kwargs):
    with DAG("d", start_date=datetime(2024, 1, 1)):
        return cls(task_id="s", **kwargs)


@pytest.mark.parametrize(
    ("command", "retry_exit_code", "outcome"),
    [("exit 0", None, True), ("exit 3", None, False), ("exit 3", 3, False)],
)
def test_bash_sensor_is_done_on_exit_code_zero(command, retry_exit_code, outcome):
    assert (
        build(BashSensor, bash_command=command, retry_exit_code=retry_exit_code).poke({}) is outcome
    )


def test_bash_sensor_fails_on_another_code_than_its_retry_code():
    with pytest.raises(AirflowFailException, match="return code 4"):
        build(BashSensor, bash_command="exit 4", retry_exit_code=3).poke({})


def test_bash_sensor_runs_in_a_temporary_directory_with_the_given_env(caplog):
    caplog.set_level("INFO")
    build(BashSensor, bash_command='echo "in $PWD as $WHO"', env={"WHO": "me"}).poke({})
    assert "airflowtmp" in caplog.text and "as me" in caplog.text


def test_file_sensor_finds_a_file_under_its_connections_path(task_runtime, tmp_path):
    task_runtime.connections["fs_default"] = {
        "conn_id": "fs_default",
        "conn_type": "fs",
        "extra": f'{{"path": "{tmp_path}"}}',
    }
    sensor = build(FileSensor, filepath="in/*.csv")
    assert sensor.poke({}) is False
    (tmp_path / "in").mkdir()
    assert sensor.poke({}) is False
    (tmp_path / "in" / "a.csv").write_text("x")
    assert sensor.poke({}) is True


def test_file_sensor_matches_a_folder_holding_files_below_it(task_runtime, tmp_path):
    task_runtime.connections["data"] = {"conn_id": "data", "conn_type": "fs", "extra": "{}"}
    (tmp_path / "out" / "deep").mkdir(parents=True)
    sensor = build(FileSensor, filepath=str(tmp_path / "out"), fs_conn_id="data")
    assert sensor.poke({}) is False
    (tmp_path / "out" / "deep" / "part-0").write_text("x")
    assert sensor.poke({}) is True


def test_recursive_lets_double_star_match_any_depth(task_runtime, tmp_path):
    task_runtime.connections["fs_default"] = {"conn_id": "fs_default", "conn_type": "fs"}
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("x")
    pattern = str(tmp_path / "**" / "x.txt")
    assert build(FileSensor, filepath=pattern, recursive=True).poke({}) is True


def test_time_sensor_waits_for_its_time_of_day_today(monkeypatch):
    sensor = build(TimeSensor, target_time=time(6, 30))
    target = sensor.target_datetime
    assert target.time() == time(6, 30) and target.tzinfo is not None
    monkeypatch.setattr(temporal, "_utcnow", lambda: target - timedelta(minutes=1))
    assert sensor.poke({}) is False
    monkeypatch.setattr(temporal, "_utcnow", lambda: target + timedelta(minutes=1))
    assert sensor.poke({}) is True


def test_time_delta_sensor_counts_from_the_data_interval_end(frozen_now):
    sensor = build(TimeDeltaSensor, delta=timedelta(hours=1))
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(hours=2)}) is True
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(minutes=30)}) is False


def test_time_delta_sensor_without_data_interval_counts_from_run_after(frozen_now):
    sensor = build(TimeDeltaSensor, delta=timedelta(hours=1))
    run = SimpleNamespace(run_after=frozen_now - timedelta(hours=2))
    assert sensor.poke({"data_interval_end": None, "dag_run": run}) is True


def test_date_time_sensor_parses_its_templated_target(frozen_now):
    assert build(DateTimeSensor, target_time="2024-03-06T11:00:00").poke({}) is True
    assert build(DateTimeSensor, target_time=frozen_now + timedelta(seconds=1)).poke({}) is False


def test_day_of_week_sensor_checks_today_or_the_logical_date(frozen_now):
    assert build(DayOfWeekSensor, week_day="Wednesday").poke({}) is True
    assert build(DayOfWeekSensor, week_day={"Saturday", "Sunday"}).poke({}) is False
    saturday = datetime(2024, 3, 9, tzinfo=UTC)
    sensor = build(DayOfWeekSensor, week_day="Saturday", use_task_logical_date=True)
    assert sensor.poke({"logical_date": saturday}) is True


def test_time_delta_sensor_takes_an_int_of_minutes(frozen_now):
    sensor = build(TimeDeltaSensor, delta=90)
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(minutes=91)}) is True
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(minutes=89)}) is False


def test_time_delta_sensor_renders_a_templated_delta_as_minutes(frozen_now):
    with DAG("d", start_date=datetime(2024, 1, 1), params={"wait": 30}):
        sensor = TimeDeltaSensor(task_id="s", delta="{{ params.wait }}")
    assert sensor.template_fields == ("delta",)
    sensor.render_template_fields({"params": {"wait": 30}})
    assert sensor.delta == "30"
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(minutes=31)}) is True
    assert sensor.poke({"data_interval_end": frozen_now - timedelta(minutes=29)}) is False


def test_a_delta_that_renders_to_no_whole_number_fails_the_try_naming_it(frozen_now):
    sensor = build(TimeDeltaSensor, delta="{{ 'soon' }}")
    sensor.render_template_fields({})
    with pytest.raises(AirflowException, match=r"delta is 'soon', which is neither"):
        sensor.poke({"data_interval_end": frozen_now})


def test_wait_sensor_takes_minutes_a_timedelta_or_a_template(monkeypatch):
    slept = []
    monkeypatch.setattr(temporal.time_module, "sleep", slept.append)
    build(WaitSensor, time_to_wait=2).execute({})
    build(WaitSensor, time_to_wait=timedelta(seconds=5)).execute({})
    templated = build(WaitSensor, time_to_wait="{{ 3 }}")
    templated.render_template_fields({})
    templated.execute({})
    assert slept == [120, 5, 180]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (TimeSensor, {"target_time": "01:00"}, "target_time must be a datetime.time"),
        (TimeDeltaSensor, {"delta": 1.5}, "delta must be a timedelta, an int of minutes"),
        (TimeDeltaSensor, {"delta": True}, "delta must be a timedelta"),
        (WaitSensor, {"time_to_wait": None}, "time_to_wait must be a timedelta"),
        (DateTimeSensor, {"target_time": 5}, "expected str or datetime"),
        (DayOfWeekSensor, {"week_day": "Funday"}, "week_day"),
    ],
)
def test_bad_arguments_fail_the_dag_file(cls, kwargs, message):
    with pytest.raises(DagDefinitionError, match=message):
        build(cls, **kwargs)
