"""start_from_trigger as Airflow declares it: an operator class's StartTriggerArgs (imported
from airflow.triggers.base) is serialized with the DAG for a task whose start_from_trigger is
true; what we cannot do as Airflow does (templated trigger kwargs, mapped tasks) is refused
naming the task and what it asked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.sdk import DAG, BaseOperator
from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.serialization import deserialize_dag, serialize_dag
from dagruns.sdk.triggers.base import StartTriggerArgs
from tests.builders import START

TRIGGER = "airflow.providers.standard.triggers.temporal.TimeDeltaTrigger"


def _operator(trigger_kwargs, start=True, template_fields=()):
    class Waits(BaseOperator):
        start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER,
            trigger_kwargs=trigger_kwargs,
            next_method="execute_complete",
            next_kwargs={"note": "resumed"},
            timeout=timedelta(minutes=5),
        )
        start_from_trigger = start

        def __init__(self, *, delta=None, **kwargs):
            super().__init__(**kwargs)
            self.delta = delta

        def execute_complete(self, context, event=None, note=None):
            return note

    Waits.template_fields = template_fields
    return Waits


def _task_data(operator, **kwargs) -> dict:
    with DAG("starts", schedule=None, start_date=START) as dag:
        operator(task_id="waits", **kwargs)
    return serialize_dag(dag)["tasks"][0]


def test_a_task_that_starts_from_the_trigger_carries_its_args_in_the_serialized_dag():
    data = _task_data(_operator({"delta": timedelta(seconds=3), "end_from_trigger": True}))
    assert data["start_from_trigger"] is True
    assert data["start_trigger_args"] == {
        "trigger_cls": TRIGGER,
        "trigger_kwargs": {
            "delta": {"__type": "timedelta", "__var": 3.0},
            "end_from_trigger": True,
        },
        "next_method": "execute_complete",
        "next_kwargs": {"note": "resumed"},
        "timeout": 300.0,
    }


def test_the_args_survive_a_round_trip_through_the_serialized_form():
    with DAG("starts", schedule=None, start_date=START) as dag:
        _operator({"delta": 1})(task_id="waits")
    data = serialize_dag(dag)
    assert serialize_dag(deserialize_dag(data)) == data


def test_start_from_trigger_set_by_the_operators_init_counts_as_in_airflow():
    class Opt(_operator({"delta": 1}, start=False)):
        def __init__(self, *, start_from_trigger=False, **kwargs):
            super().__init__(**kwargs)
            self.start_from_trigger = start_from_trigger

    assert "start_trigger_args" not in _task_data(Opt)
    assert _task_data(Opt, start_from_trigger=True)["start_from_trigger"] is True


def test_a_templated_trigger_kwarg_airflow_would_render_is_refused_naming_it():
    operator = _operator({"delta": "{{ params.wait }}"}, template_fields=("delta",))
    with pytest.raises(DagDefinitionError) as caught:
        _task_data(operator)
    message = str(caught.value)
    assert message.startswith("Task 'waits': start_trigger_args.trigger_kwargs['delta']")
    assert "is not supported" in message


def test_a_jinja_looking_kwarg_that_is_no_template_field_passes_as_it_is():
    # Airflow renders only the kwargs named in the operator's template_fields.
    data = _task_data(_operator({"delta": 1, "label": "{{ ds }}"}, template_fields=("delta",)))
    assert data["start_trigger_args"]["trigger_kwargs"]["label"] == "{{ ds }}"


def test_start_from_trigger_without_start_trigger_args_is_refused():
    class Bare(BaseOperator):
        start_from_trigger = True

    with pytest.raises(DagDefinitionError, match="start_from_trigger=True needs"):
        _task_data(Bare)


def test_a_trigger_kwarg_that_cannot_cross_processes_is_refused_naming_it():
    with pytest.raises(DagDefinitionError, match=r"trigger_kwargs\['delta'\] is a builtins.obj"):
        _task_data(_operator({"delta": object()}))


def test_a_mapped_task_starting_from_the_trigger_is_refused():
    with (
        DAG("mapped", schedule=None, start_date=START) as dag,
        pytest.raises(DagDefinitionError, match="start_from_trigger on a mapped task"),
    ):
        _operator({"delta": 1}).partial(task_id="waits").expand(delta=[1, 2])
        serialize_dag(dag)


@pytest.mark.parametrize("name", ["start_from_trigger", "start_trigger_args"])
def test_as_a_baseoperator_argument_it_is_refused_as_airflow_does(name):
    with (
        DAG("args", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match=f"{name}.*not a BaseOperator argument"),
    ):
        BaseOperator(task_id="t", **{name: True})


def test_the_time_sensors_start_from_a_trigger_of_their_own_moment():
    from dagruns.sdk import DateTimeSensorAsync

    with DAG("sensors", schedule=None, start_date=START) as dag:
        DateTimeSensorAsync(
            task_id="first", target_time="2030-01-01T10:00:00+00:00", start_from_trigger=True
        )
        DateTimeSensorAsync(
            task_id="second",
            target_time="2031-06-01T00:00:00+00:00",
            start_from_trigger=True,
            end_from_trigger=True,
        )
        DateTimeSensorAsync(task_id="plain", target_time="2031-06-01T00:00:00+00:00")
    tasks = {t["task_id"]: t for t in serialize_dag(dag)["tasks"]}
    first, second = (tasks[t]["start_trigger_args"] for t in ("first", "second"))
    assert first["trigger_cls"] == "airflow.providers.standard.triggers.temporal.DateTimeTrigger"
    # Each task its own moment (Airflow's shared class-level args would give both the last).
    assert first["trigger_kwargs"] == {
        "moment": {"__type": "datetime", "__var": "2030-01-01T10:00:00+00:00"},
        "end_from_trigger": False,
    }
    assert second["trigger_kwargs"]["end_from_trigger"] is True
    assert "start_trigger_args" not in tasks["plain"]


def test_a_time_sensor_starts_from_the_trigger_at_todays_target_time():
    from datetime import time

    from dagruns.sdk import TimeSensor

    with DAG("time", schedule=None, start_date=START) as dag:
        TimeSensor(task_id="t", target_time=time(23, 59), start_from_trigger=True)
    args = serialize_dag(dag)["tasks"][0]["start_trigger_args"]
    assert args["trigger_kwargs"]["moment"]["__var"].endswith("23:59:00+00:00")


def test_a_templated_target_time_cannot_start_from_the_trigger():
    from dagruns.sdk import DateTimeSensorAsync

    with (
        DAG("templated", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match="start_from_trigger needs target_time"),
    ):
        DateTimeSensorAsync(task_id="t", target_time="{{ ds }}", start_from_trigger=True)


def test_trigger_kwargs_for_mapped_starts_is_refused_naming_it():
    from dagruns.sdk import DateTimeSensorAsync

    with (
        DAG("kwargs", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match="'trigger_kwargs' is not supported"),
    ):
        DateTimeSensorAsync(
            task_id="t", target_time="2030-01-01", start_from_trigger=True, trigger_kwargs={}
        )
