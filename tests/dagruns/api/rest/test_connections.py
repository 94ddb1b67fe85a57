"""`/connections`: CRUD with Airflow's fields; the password is write-only."""

from __future__ import annotations

import json

import pytest

from dagruns.models import AuditEvent, Connection

pytestmark = pytest.mark.django_db


def test_create_read_update_delete(op, world):
    created = op.post(
        "/connections",
        {
            "connection_id": "api",
            "conn_type": "http",
            "host": "example.org",
            "port": 443,
            "login": "me",
            "password": "pw",
            "schema": "https",
            "extra": '{"timeout": 5}',
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["connection_id"] == "api" and body["schema"] == "https"
    assert body["password"] is None and body["extra"] == '{"timeout": 5}'
    patched = op.patch(
        "/connections/api", {"connection_id": "api", "conn_type": "http", "port": 8443}
    )
    assert patched.json()["port"] == 8443
    assert op.delete("/connections/api").status_code == 204
    assert op.get("/connections/api").status_code == 404


def test_the_password_is_never_returned_and_survives_a_patch_without_it(op, world):
    assert op.get("/connections/warehouse").json()["password"] is None
    assert all(c["password"] is None for c in op.get("/connections").json()["connections"])
    op.patch("/connections/warehouse", {"connection_id": "warehouse", "conn_type": "postgres"})
    assert Connection.objects.get(conn_id="warehouse").password == "pw"
    op.patch(
        "/connections/warehouse",
        {"connection_id": "warehouse", "conn_type": "postgres", "password": "new"},
    )
    assert Connection.objects.get(conn_id="warehouse").password == "new"


def test_secret_keys_in_extra_are_masked(op, world):
    op.post(
        "/connections",
        {"connection_id": "s3", "conn_type": "aws", "extra": '{"region": "eu", "secret_key": "x"}'},
    )
    extra = json.loads(op.get("/connections/s3").json()["extra"])
    assert extra == {"region": "eu", "secret_key": "***"}


def test_bad_ids_extras_and_taken_ids_are_refused(op, world):
    assert op.post("/connections", {"connection_id": "a b", "conn_type": "x"}).status_code == 422
    assert (
        op.post(
            "/connections", {"connection_id": "a", "conn_type": "x", "extra": "[1]"}
        ).status_code
        == 422
    )
    assert (
        op.post("/connections", {"connection_id": "warehouse", "conn_type": "x"}).status_code == 409
    )


def test_the_body_id_must_match_the_path(op, world):
    response = op.patch("/connections/warehouse", {"connection_id": "other", "conn_type": "x"})
    assert response.status_code == 400


def test_changes_are_audited_without_secrets(op, world):
    op.post("/connections", {"connection_id": "c1", "conn_type": "x", "password": "pw"})
    event = AuditEvent.objects.get(event="connection_create")
    assert "pw" not in json.dumps(event.extra)
