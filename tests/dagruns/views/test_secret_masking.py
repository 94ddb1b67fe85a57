"""Secrets a task put in its XComs, rendered fields or notes are shown masked to people (the
task page and the REST API), stored encrypted, and handed back in clear to tasks only.

The task runs for real: the runner in a child process against the live Execution API."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection as db
from django.test import Client

from dagruns.api.rest.auth import issue_token
from dagruns.domain.roles import Role
from dagruns.models import Connection, TaskInstance, Variable, XCom
from scheduler.runner.supervisor import EXIT_OK
from tests.dagruns.api.rest.conftest import Api
from tests.personas import make_user

pytestmark = pytest.mark.slow

VARIABLE_SECRET = "tok-abcdef-variable"
PASSWORD = "s3cr3t-pass-word"
DAG = """
from datetime import datetime
from dagruns.sdk import DAG, task, BashOperator

with DAG("leaky_dag", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def leaky(conn=None, var=None):
        return {
            "header": "Bearer " + var.value.api_token,
            "dsn": "postgres://etl:" + conn.warehouse.password + "@db/x",
            "region": var.value.region,
        }

    @task
    def reader(value):
        return value["header"] == "Bearer " + "tok-abcdef-variable"

    BashOperator(task_id="echo", bash_command="echo {{ var.value.api_token }}")
    reader(leaky())
"""


@pytest.fixture
def secrets(transactional_db):
    for role in Role:  # transactional tests flush the groups the migrations made
        Group.objects.get_or_create(name=role.group_name)
    conn = Connection(conn_id="warehouse", conn_type="postgres", host="db", login="etl")
    conn.password = PASSWORD
    conn.save()
    for key, value in (("api_token", VARIABLE_SECRET), ("region", "eu-west-1")):
        variable = Variable(key=key)
        variable.val = value
        variable.save()


@pytest.fixture
def vera(secrets):
    return make_user("vera", Role.VIEWER)


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_returned_secret_is_masked_for_a_viewer_and_encrypted_in_the_database(vera, make_try):
    t = make_try(DAG, "leaky", dag_id="leaky_dag")
    assert t.run().returncode == EXIT_OK

    # In the database: neither the secret nor the value's JSON is readable.
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM xcom")
        stored = json.dumps([list(map(str, row)) for row in cursor.fetchall()])
    assert VARIABLE_SECRET not in stored and PASSWORD not in stored and "eu-west-1" not in stored

    # The task page (as the grid opens it) shows the XCom with the secrets masked.
    page = _session(vera).get(f"/dags/leaky_dag/runs/{t.dag_run.run_id}/tasks/leaky")
    assert page.status_code == 200
    html = page.content.decode()
    assert VARIABLE_SECRET not in html and PASSWORD not in html
    assert "Bearer ***" in html and "postgres://etl:***@db/x" in html and "eu-west-1" in html

    # The REST API, both shapes of the entry, and the list.
    api = Api(issue_token(vera))
    path = f"/dags/leaky_dag/dagRuns/{t.dag_run.run_id}/taskInstances/leaky/xcomEntries"
    entry = api.get(f"{path}/return_value").json()
    assert entry["value"] == {
        "header": "Bearer ***",
        "dsn": "postgres://etl:***@db/x",
        "region": "eu-west-1",
    }
    text = api.get(f"{path}/return_value", params={"stringify": "true"}).json()["value"]
    assert VARIABLE_SECRET not in text and "Bearer ***" in text
    assert api.get(path).json()["total_entries"] == 1


def test_the_next_task_still_reads_the_clear_value(secrets, make_try):
    first = make_try(DAG, "leaky", dag_id="leaky_dag")
    assert first.run().returncode == EXIT_OK
    reader = TaskInstance.objects.get(dag_run=first.dag_run, task_id="reader")
    reader.state, reader.try_number = "queued", 1
    reader.save(update_fields=["state", "try_number"])
    from dagruns.domain.tokens import issue_token

    workload = {
        **first.workload,
        "ti_id": str(reader.pk),
        "task_id": "reader",
        "token": issue_token(reader.pk, 1),
    }
    second = first.start(**workload).wait()
    assert second.returncode == EXIT_OK, second.stderr
    reader.refresh_from_db()
    assert reader.state == "success"
    # It got the clear value through the Execution API (a masked one would compare False).
    assert XCom.objects.get(dag_run=first.dag_run, task_id="reader").value is True


def test_rendered_fields_and_notes_are_masked_on_the_page_and_in_rest(vera, make_try):
    t = make_try(DAG, "echo", dag_id="leaky_dag")
    assert t.run().returncode == EXIT_OK
    ti = t.refresh()
    # Rendered fields the runner stored are masked already; a person's note is masked here.
    ti.note = f"rotated {VARIABLE_SECRET} today"
    ti.save(update_fields=["note"])
    t.dag_run.note = f"used {PASSWORD}"
    t.dag_run.save(update_fields=["note"])

    html = (
        _session(vera).get(f"/dags/leaky_dag/runs/{t.dag_run.run_id}/tasks/echo").content.decode()
    )
    assert VARIABLE_SECRET not in html
    runs = _session(vera).get("/dags/leaky_dag/runs").content.decode()
    assert PASSWORD not in runs and "used ***" in runs

    api = Api(issue_token(vera))
    body = api.get(f"/dags/leaky_dag/dagRuns/{t.dag_run.run_id}/taskInstances/echo").json()
    assert body["note"] == "rotated *** today"
    assert VARIABLE_SECRET not in json.dumps(body["rendered_fields"])
    run = api.get(f"/dags/leaky_dag/dagRuns/{t.dag_run.run_id}").json()
    assert run["note"] == "used ***"
