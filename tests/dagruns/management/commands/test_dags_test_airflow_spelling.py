"""`dags test` and `tasks test` run DAG files written with Airflow's import paths."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dagruns.models import DagRun
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db(transaction=True)

DAG_FILE = """
import pendulum
from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator
from airflow.models.param import Param


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Tokyo"),
     params={"who": Param("airflow", type="string")})
def airflow_spelled():
    @task
    def greet(params=None, logical_date=None):
        # pendulum's API on the context's dates, as in Airflow
        print("GREETING", params["who"], logical_date.in_timezone("Asia/Tokyo").format("YYYY-MM-DD HH:mm"))

    greet() >> BashOperator(task_id="bash", bash_command="echo ds={{ ds }}")


airflow_spelled()
"""


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def parsed(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    write(dags_folder, "airflow_spelled.py", DAG_FILE)
    DagProcessor().run_once()


def test_dags_test_runs_an_airflow_spelled_dag_at_the_logical_date_given(parsed):
    out = run("dags", "test", "airflow_spelled", "2024-03-01T09:00:00+09:00")
    assert "GREETING airflow 2024-03-01 09:00" in out
    assert "ds=2024-03-01" in out
    assert "finished: success" in out
    assert DagRun.objects.get().state == "success"


def test_tasks_test_runs_one_task_of_an_airflow_spelled_dag(parsed):
    out = run("tasks", "test", "airflow_spelled", "greet", "2024-03-02")
    assert "GREETING airflow 2024-03-02 09:00" in out
