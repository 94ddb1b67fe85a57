"""The sensors resolve from Airflow 3's, the standard provider's and Airflow 2's paths."""

from __future__ import annotations

import importlib

import pytest

import dagruns.sdk
from dagruns.sdk.sensors import base, external_task

pytestmark = pytest.mark.usefixtures("shim")

PATHS = {
    "airflow.sdk": ["BaseSensorOperator", "PokeReturnValue"],
    "airflow.sdk.bases.sensor": ["BaseSensorOperator", "PokeReturnValue", "poke_mode_only"],
    "airflow.sensors.base": ["BaseSensorOperator", "PokeReturnValue", "poke_mode_only"],
    "airflow.providers.standard.sensors.python": ["PythonSensor"],
    "airflow.providers.standard.sensors.bash": ["BashSensor"],
    "airflow.providers.standard.sensors.filesystem": ["FileSensor"],
    "airflow.providers.standard.sensors.time": ["TimeSensor"],
    "airflow.providers.standard.sensors.time_delta": ["TimeDeltaSensor", "WaitSensor"],
    "airflow.providers.standard.sensors.date_time": ["DateTimeSensor"],
    "airflow.providers.standard.sensors.weekday": ["DayOfWeekSensor"],
    "airflow.providers.standard.sensors.external_task": [
        "ExternalTaskSensor",
        "ExternalTaskMarker",
    ],
    "airflow.sensors.external_task": ["ExternalTaskSensor", "ExternalTaskMarker"],
    "airflow.sensors.python": ["PythonSensor"],
    "airflow.sensors.filesystem": ["FileSensor"],
    "airflow.sensors.time_sensor": ["TimeSensor"],
    "airflow.exceptions": ["AirflowSensorTimeout", "AirflowRescheduleException"],
    "airflow.sdk.exceptions": ["AirflowSensorTimeout", "AirflowRescheduleException"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_each_path_gives_the_sdks_own_class(module):
    imported = importlib.import_module(module)
    for name in PATHS[module]:
        ours = getattr(dagruns.sdk, name, None) or getattr(base, name)
        assert getattr(imported, name) is ours, f"{module}.{name}"


def test_the_standard_providers_exceptions_resolve():
    from airflow.providers.standard.exceptions import ExternalTaskFailedError

    assert ExternalTaskFailedError is external_task.ExternalTaskFailedError


def test_task_sensor_is_the_decorator():
    from airflow.providers.standard.decorators.sensor import sensor_task

    assert sensor_task == dagruns.sdk.task.sensor
