"""`Connection` as Airflow's task SDK defines it: fetching, URIs, extra_dejson."""

from __future__ import annotations

import pytest

from dagruns.sdk import AirflowNotFoundException, Connection
from dagruns.sdk.exceptions import AirflowException
from dagruns.sdk.runtime import NoTaskRuntime

WAREHOUSE = {
    "conn_id": "warehouse",
    "conn_type": "postgres",
    "host": "db.example",
    "schema": "analytics",
    "login": "etl",
    "password": "p@ss word",
    "port": 5432,
    "extra": '{"sslmode": "require"}',
}


def test_get_builds_the_connection_from_the_runtimes_answer(task_runtime):
    task_runtime.connections["warehouse"] = WAREHOUSE

    conn = Connection.get("warehouse")

    assert (conn.conn_id, conn.conn_type, conn.host, conn.schema) == (
        "warehouse",
        "postgres",
        "db.example",
        "analytics",
    )
    assert (conn.login, conn.password, conn.port) == ("etl", "p@ss word", 5432)
    assert conn.extra_dejson == {"sslmode": "require"}
    assert "p@ss" not in repr(conn)


def test_get_of_a_missing_conn_id_raises_airflow_not_found_naming_it(task_runtime):
    with pytest.raises(AirflowNotFoundException, match="The conn_id `nope` isn't defined"):
        Connection.get("nope")


def test_get_outside_a_task_says_so():
    with pytest.raises(NoTaskRuntime, match=r"Connection.get\('warehouse'\)"):
        Connection.get("warehouse")


def test_get_uri_quotes_credentials_and_carries_the_extra_as_query():
    conn = Connection(**WAREHOUSE)
    assert conn.get_uri() == (
        "postgres://etl:p%40ss%20word@db.example:5432/analytics?sslmode=require"
    )


def test_a_uri_round_trips():
    uri = Connection(**WAREHOUSE).get_uri()
    back = Connection(conn_id="again", uri=uri)
    assert (back.conn_type, back.host, back.schema, back.login, back.password, back.port) == (
        "postgres",
        "db.example",
        "analytics",
        "etl",
        "p@ss word",
        5432,
    )
    assert back.extra_dejson == {"sslmode": "require"}


def test_get_uri_of_a_nested_extra_uses_the_extra_key():
    conn = Connection(conn_id="c", conn_type="http", host="h", extra='{"a": {"b": 1}}')
    uri = conn.get_uri()
    assert "__extra__=" in uri
    assert Connection(conn_id="c", uri=uri).extra_dejson == {"a": {"b": 1}}


def test_get_uri_of_a_host_with_another_protocol_keeps_it():
    conn = Connection(conn_id="c", conn_type="http", host="https://api.example", port=443)
    assert conn.get_uri() == "http://https://api.example:443"
    assert Connection(conn_id="c", uri=conn.get_uri()).host == "https://api.example"


def test_underscored_types_become_dashes_in_uris_and_back():
    conn = Connection(conn_id="c", conn_type="google_cloud_platform", host="h")
    assert conn.get_uri().startswith("google-cloud-platform://")
    assert Connection(conn_id="c", uri=conn.get_uri()).conn_type == "google_cloud_platform"


def test_extra_dejson_of_text_that_is_not_json_is_empty():
    assert Connection(conn_id="c", extra="not json").extra_dejson == {}


def test_uri_and_fields_together_are_refused():
    with pytest.raises(AirflowException, match="can't mix"):
        Connection(conn_id="c", uri="http://h", host="x")


def test_a_port_out_of_range_is_refused():
    with pytest.raises(ValueError, match="range 0-65535"):
        Connection(conn_id="c", port=70000)


def test_an_unknown_field_is_refused_naming_it():
    with pytest.raises(TypeError, match="unknown field.*hostname"):
        Connection(conn_id="c", hostname="h")


def test_to_dict_and_json_round_trip():
    conn = Connection(**WAREHOUSE)
    assert Connection.from_json(conn.as_json(), conn_id="warehouse").to_dict() == conn.to_dict()
