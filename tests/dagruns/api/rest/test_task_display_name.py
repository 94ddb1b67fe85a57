"""REST answers carry Airflow's `task_display_name`: the DAG file's, else the task id."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.xcoms import do_set_xcom
from dagruns.models import DagImportError
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator, EmptyOperator

with DAG("named", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    BashOperator(task_id="load", bash_command="true", task_display_name="Load the warehouse")
    EmptyOperator(task_id="plain")
"""


@pytest.fixture
def run(dags_folder):
    write(dags_folder, "named.py", DAG_FILE)
    DagProcessor(timeout=20.0).run_once()
    assert not DagImportError.objects.exists()
    return do_trigger_dag("named", Actor(name="test"))


def test_task_instances_carry_the_display_name(admin, run):
    body = admin.get(f"/dags/named/dagRuns/{run.run_id}/taskInstances").json()
    names = {ti["task_id"]: ti["task_display_name"] for ti in body["task_instances"]}
    assert names == {"load": "Load the warehouse", "plain": "plain"}
    one = admin.get(f"/dags/named/dagRuns/{run.run_id}/taskInstances/load").json()
    assert one["task_display_name"] == "Load the warehouse"


def test_xcom_entries_carry_the_display_name(admin, run):
    do_set_xcom(run, "load", "rows", 3)
    path = f"/dags/named/dagRuns/{run.run_id}/taskInstances/load/xcomEntries"
    assert admin.get(path).json()["xcom_entries"][0]["task_display_name"] == "Load the warehouse"
    assert admin.get(path + "/rows").json()["task_display_name"] == "Load the warehouse"


def test_the_display_name_pattern_matches_display_names_and_ids_of_unnamed_tasks(admin, run):
    path = f"/dags/named/dagRuns/{run.run_id}/taskInstances"

    def matching(pattern: str) -> set[str]:
        body = admin.get(path, params={"task_display_name_pattern": pattern}).json()
        return {ti["task_id"] for ti in body["task_instances"]}

    assert matching("warehouse") == {"load"}
    assert matching("plai") == {"plain"}
    assert matching("the WARE") == {"load"}  # case-insensitive, as Airflow's ilike
    assert matching("plain warehouse") == set()
