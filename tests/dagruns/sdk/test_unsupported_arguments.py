"""An Airflow argument we do not support is refused by name, never silently dropped: the DAG
file's import fails with a message naming the argument and the DAG or task."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.sdk import DAG, BashOperator, EmptyOperator, PythonOperator
from dagruns.sdk.exceptions import DagDefinitionError
from dagruns.sdk.unsupported import UNSUPPORTED_DAG_ARGS, UNSUPPORTED_OPERATOR_ARGS
from tests.builders import START


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_DAG_ARGS))
def test_each_unsupported_dag_argument_is_refused_naming_it_and_the_dag(name):
    with pytest.raises(DagDefinitionError) as caught:
        DAG("refusing", schedule=None, start_date=START, **{name: object()})
    message = str(caught.value)
    assert message.startswith("DAG 'refusing': ")
    assert f"argument {name!r} is not supported" in message


def test_sla_miss_callback_says_airflow_3_removed_it():
    with pytest.raises(DagDefinitionError, match="'sla_miss_callback'.*Airflow 3 removed it"):
        DAG("slas", schedule=None, start_date=START, sla_miss_callback=print)


def test_a_misspelt_dag_argument_is_refused_naming_it():
    with pytest.raises(
        DagDefinitionError, match="DAG 'typo': DAG got an unexpected argument 'catchpu'"
    ):
        DAG("typo", schedule=None, start_date=START, catchpu=True)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_OPERATOR_ARGS))
def test_each_unsupported_operator_argument_is_refused_naming_it_and_the_task(name):
    with (
        DAG("refusing_tasks", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError) as caught,
    ):
        BashOperator(task_id="say", bash_command="echo hi", **{name: timedelta(hours=1)})
    message = str(caught.value)
    assert message.startswith("Task 'say': ")
    assert f"argument {name!r} is not supported" in message


def test_every_refused_argument_is_named_at_once():
    with DAG("many", schedule=None, start_date=START), pytest.raises(DagDefinitionError) as caught:
        PythonOperator(task_id="t", python_callable=print, sla=1, run_as_user="x", colour=1)
    message = str(caught.value)
    assert "'sla'" in message and "'run_as_user'" in message
    assert "PythonOperator got an unexpected argument 'colour'" in message


def test_a_warning_switch_is_accepted_because_there_is_no_warning_to_switch():
    with DAG("switches", schedule=None, start_date=START) as dag:
        EmptyOperator(task_id="e", allow_nested_operators=False)
    assert dag.task_ids == ["e"]


def test_default_args_only_fill_arguments_the_operator_accepts_as_in_airflow():
    # Airflow applies a default_args key only where the constructor takes it; "sla" there is
    # dropped by Airflow 3 as well, so a DAG written for Airflow 3 keeps importing.
    with DAG("defaults", schedule=None, start_date=START, default_args={"sla": 1, "retries": 2}):
        task = EmptyOperator(task_id="e")
    assert task.retries == 2


@pytest.mark.django_db
def test_the_dag_file_fails_to_import_with_the_argument_named(dags_folder):
    from dagruns.models import DagImportError, DagModel
    from scheduler.processor.loop import DagProcessor
    from tests.builders import write

    path = write(
        dags_folder,
        "with_sla.py",
        """
        from datetime import datetime, timedelta
        from dagruns.sdk import DAG, BashOperator

        with DAG("with_sla", schedule=None, start_date=datetime(2024, 1, 1)):
            BashOperator(task_id="slow", bash_command="sleep 1", sla=timedelta(minutes=5))
        """,
    )
    DagProcessor().run_once()
    error = DagImportError.objects.get(filename=str(path))
    assert "Task 'slow': argument 'sla' is not supported" in error.message
    assert error.line_number == 5
    assert not DagModel.objects.filter(dag_id="with_sla", is_active=True).exists()
