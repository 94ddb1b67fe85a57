"""`task_display_name` on operators and `@task`: Airflow's property (the name, else the
task id), stored in the serialized DAG only when set."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.sdk import DAG, DagDefinitionError, EmptyOperator, deserialize_dag, serialize_dag, task


def make_dag() -> DAG:
    with DAG("d", schedule=None, start_date=datetime(2024, 1, 1), auto_register=False) as dag:

        @task(task_display_name="Fetch the orders")
        def fetch():
            return 1

        fetch() >> EmptyOperator(task_id="e", task_display_name="Émpty ✓")
        EmptyOperator(task_id="plain")
    return dag


def test_the_display_name_defaults_to_the_task_id():
    dag = make_dag()
    assert dag.get_task("fetch").task_display_name == "Fetch the orders"
    assert dag.get_task("e").task_display_name == "Émpty ✓"
    assert dag.get_task("plain").task_display_name == "plain"


def test_it_survives_serialization_and_is_stored_only_when_set():
    serialized = serialize_dag(make_dag())
    by_id = {t["task_id"]: t for t in serialized["tasks"]}
    assert by_id["fetch"]["task_display_name"] == "Fetch the orders"
    assert "task_display_name" not in by_id["plain"]
    back = deserialize_dag(serialized)
    assert back.get_task("e").task_display_name == "Émpty ✓"
    assert back.get_task("plain").task_display_name == "plain"


def test_a_display_name_that_is_not_a_string_is_refused_naming_the_task():
    with (
        pytest.raises(DagDefinitionError, match="Task 'x'.*task_display_name must be a string"),
        DAG("d", schedule=None, start_date=datetime(2024, 1, 1), auto_register=False),
    ):
        EmptyOperator(task_id="x", task_display_name=42)
