"""A DAG deleted through the REST API comes back on the processor's next pass while its file
still defines it (as in Airflow, where the processor re-parses every file), with nothing of its
old runs; a file that is unchanged otherwise is not parsed again after that."""

from __future__ import annotations

import pytest

from dagruns.api.rest.auth import issue_token
from dagruns.domain.roles import Role
from dagruns.models import DagModel, DagRun, DagVersion
from scheduler.processor.loop import DagProcessor
from tests.builders import simple_dag, write
from tests.dagruns.api.rest.conftest import Api
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def test_a_dag_deleted_through_the_api_returns_on_the_next_pass(dags_folder):
    write(dags_folder, "one.py", simple_dag("one"))
    write(dags_folder, "two.py", simple_dag("two"))
    processor = DagProcessor()
    assert processor.run_once().parsed == 2
    admin = Api(issue_token(make_user("ada", Role.ADMIN)))
    assert admin.post("/dags/one/dagRuns", {"logical_date": None}).status_code == 200

    assert admin.delete("/dags/one").status_code == 204
    assert not DagModel.objects.filter(dag_id="one").exists()

    report = processor.run_once()
    assert (report.parsed, report.unchanged) == (1, 1)  # only the file of the deleted DAG
    dag = DagModel.objects.get(dag_id="one")
    assert dag.is_active and dag.fileloc == str(dags_folder / "one.py")
    assert DagVersion.objects.filter(dag=dag).count() == 1
    assert not DagRun.objects.filter(dag_id="one").exists()
    assert admin.get("/dags/one").json()["dag_id"] == "one"

    assert processor.run_once().parsed == 0


def test_a_deleted_dag_whose_file_is_gone_stays_deleted(dags_folder):
    path = write(dags_folder, "one.py", simple_dag("one"))
    processor = DagProcessor()
    processor.run_once()
    admin = Api(issue_token(make_user("ada", Role.ADMIN)))
    assert admin.delete("/dags/one").status_code == 204
    path.unlink()

    report = processor.run_once()
    assert (report.parsed, report.forgotten) == (0, 1)
    assert not DagModel.objects.filter(dag_id="one").exists()
