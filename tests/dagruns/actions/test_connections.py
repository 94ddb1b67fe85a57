"""Connection actions: validate, mutate, audit; URIs and Airflow's export format."""

from __future__ import annotations

import pytest

from dagruns.actions import connections as c
from dagruns.actions.audit import Actor
from dagruns.models import AuditEvent, Connection

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_create_encrypts_and_checks_fields():
    conn = c.do_create_connection(
        "db", {"conn_type": "postgres", "password": "pw", "port": "5432"}, ACTOR
    )
    assert conn.port == 5432 and Connection.objects.get(conn_id="db").password == "pw"
    with pytest.raises(c.ConnectionExists):
        c.do_create_connection("db", {"conn_type": "postgres"}, ACTOR)
    for fields in ({}, {"conn_type": "x", "port": "ssh"}, {"conn_type": "x", "extra": "[1]"}):
        with pytest.raises(c.ConnectionInvalid):
            c.do_create_connection("other", fields, ACTOR)
    with pytest.raises(c.ConnectionInvalid):
        c.do_create_connection("x" * 201, {"conn_type": "x"}, ACTOR)


def test_update_without_a_password_keeps_it():
    c.do_create_connection("db", {"conn_type": "postgres", "password": "pw"}, ACTOR)
    c.do_update_connection("db", {"host": "h", "password": None}, ACTOR)
    conn = Connection.objects.get(conn_id="db")
    assert conn.host == "h" and conn.password == "pw"
    assert AuditEvent.objects.filter(event="connection_update").exists()


def test_uri_round_trip():
    fields = c.fields_from_uri("postgres://me:p%40ss@db.example:5433/warehouse?sslmode=require")
    assert fields["conn_type"] == "postgres" and fields["password"] == "p@ss"
    assert fields["port"] == 5433 and fields["schema"] == "warehouse"
    assert fields["extra"] == {"sslmode": "require"}
    conn = c.do_create_connection("db", fields, ACTOR)
    again = c.fields_from_uri(c.connection_uri(conn))
    assert again["password"] == "p@ss" and again["extra"] == {"sslmode": "require"}


def test_export_then_import_reproduces_connections_and_skips_existing():
    c.do_create_connection("db", {"conn_type": "postgres", "password": "pw", "host": "h"}, ACTOR)
    exported = c.export_connections()
    assert exported["db"]["password"] == "pw"
    Connection.objects.all().delete()
    assert c.do_import_connections(exported, ACTOR)["created"] == ["db"]
    assert Connection.objects.get(conn_id="db").password == "pw"
    assert c.do_import_connections(exported, ACTOR)["skipped"] == ["db"]
    assert c.do_import_connections(exported, ACTOR, overwrite=True)["updated"] == ["db"]


def test_delete_unknown_raises():
    with pytest.raises(c.ConnectionNotFound):
        c.do_delete_connection("nope", ACTOR)


def test_one_serialisation_shows_secrets_clear_masked_or_hidden():
    from dagruns.actions.connections import connection_fields, export_row, masked_extra_text

    conn = c.do_create_connection(
        "wh",
        {
            "conn_type": "postgres",
            "password": "hunter2",
            "extra": '{"api_key": "k-1", "nested": {"token": "t"}, "region": "eu"}',
        },
        ACTOR,
    )
    masked = '{"api_key": "***", "nested": {"token": "***"}, "region": "eu"}'
    assert masked_extra_text(conn) == masked
    assert connection_fields(conn, secrets="masked")["password"] == "***"
    assert connection_fields(conn, secrets="hidden")["password"] is None
    assert connection_fields(conn, secrets="hidden")["extra"] == masked
    assert export_row(conn)["password"] == "hunter2" and "k-1" in export_row(conn)["extra"]
