"""PythonSensor and @task.sensor."""

from __future__ import annotations

import pytest

from dagruns.sdk import DAG, DagDefinitionError, PokeReturnValue, PythonSensor, task


def test_the_callable_gets_its_arguments_and_context_and_its_truth_ends_the_wait():
    seen = []

    def check(limit, ds=None):
        seen.append((limit, ds))
        return len(seen) >= limit

    with DAG("d"):
        s = PythonSensor(task_id="s", python_callable=check, op_args=[2], poke_interval=0)
    assert s.execute({"ds": "2024-01-01"}) is None
    assert seen == [(2, "2024-01-01"), (2, "2024-01-01")]


def test_a_poke_return_value_from_the_callable_is_the_result():
    with DAG("d"):
        s = PythonSensor(task_id="s", python_callable=lambda: PokeReturnValue(True, "v"))
    assert s.execute({}) == "v"


def test_a_callable_is_required():
    with DAG("d"), pytest.raises(DagDefinitionError, match="must be callable"):
        PythonSensor(task_id="s", python_callable="nope")


def test_task_sensor_makes_a_sensor_from_a_function():
    with DAG("d") as dag:

        @task.sensor(poke_interval=7, timeout=30, mode="reschedule")
        def wait_for(n):
            return PokeReturnValue(is_done=True, xcom_value=n * 2)

        wait_for(21)
    op = dag.get_task("wait_for")
    assert (op.poke_interval, op.timeout, op.mode) == (7, 30, "reschedule")
    assert op.custom_operator_name == "@task.sensor"
    first_poke = type("TI", (), {"get_first_reschedule_date": lambda self, context: None})()
    assert op.execute({"ti": first_poke}) == 42
