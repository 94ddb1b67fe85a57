"""Variables and connections through the Execution API, decrypted for the running task."""

from __future__ import annotations

import pytest

from dagruns.models import Connection, Variable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]


@pytest.fixture
def variable():
    var = Variable(key="api_key")
    var.val = "s3cret"
    var.save()
    return var


@pytest.fixture
def connection():
    conn = Connection(conn_id="warehouse", conn_type="postgres", host="db", login="etl", port=5432)
    conn.password = "pw"
    conn.extra = {"sslmode": "require"}
    conn.save()
    return conn


def test_a_variable_is_returned_decrypted(running, variable):
    response = running.call("get", "variables/api_key")
    assert response.status_code == 200
    assert response.json() == {"key": "api_key", "value": "s3cret"}


def test_a_missing_variable_is_404(running):
    response = running.call("get", "variables/nope")
    assert response.status_code == 404
    assert response.json()["detail"]["reason"] == "not_found"


def test_a_connection_is_returned_with_password_and_extra(running, connection):
    response = running.call("get", "connections/warehouse")
    assert response.status_code == 200
    assert response.json() == {
        "conn_id": "warehouse",
        "conn_type": "postgres",
        "host": "db",
        "schema": None,
        "login": "etl",
        "password": "pw",
        "port": 5432,
        "extra": '{"sslmode": "require"}',
    }


def test_a_missing_connection_is_404(running):
    assert running.call("get", "connections/nope").status_code == 404


def test_secrets_need_a_token(running, variable, connection):
    running.token = ""
    assert running.call("get", "variables/api_key").status_code == 401
    assert running.call("get", "connections/warehouse").status_code == 401


def test_secrets_are_refused_to_a_try_that_is_not_running(runner, variable):
    assert runner.call("get", "variables/api_key").status_code == 403  # queued, not claimed
    runner.run()
    runner.finish("success")
    assert runner.call("get", "variables/api_key").status_code == 403
