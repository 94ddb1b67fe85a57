"""`manage.py connections …` in Airflow's shape."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import Connection

pytestmark = pytest.mark.django_db


def connections(*argv: str) -> str:
    out = StringIO()
    call_command("connections", *argv, stdout=out)
    return out.getvalue()


def test_add_with_fields_get_list_delete():
    out = connections(
        "add",
        "db",
        "--conn-type",
        "postgres",
        "--conn-host",
        "h",
        "--conn-password",
        "pw",
        "--conn-port",
        "5432",
    )
    assert out.startswith("Successfully added `conn_id`=db")
    row = json.loads(connections("get", "db", "-o", "json"))[0]
    assert row["host"] == "h" and row["port"] == 5432 and row["password"] == "***"
    assert [r["conn_id"] for r in json.loads(connections("list", "-o", "json"))] == ["db"]
    assert "Successfully deleted" in connections("delete", "db")
    assert not Connection.objects.exists()


def test_add_with_a_uri_or_json():
    connections("add", "u", "--conn-uri", "http://me:pw@example.org:8080/path")
    conn = Connection.objects.get(conn_id="u")
    assert (conn.conn_type, conn.host, conn.port, conn.password) == (
        "http",
        "example.org",
        8080,
        "pw",
    )
    connections("add", "j", "--conn-json", '{"conn_type": "s3", "extra": {"region": "eu"}}')
    assert Connection.objects.get(conn_id="j").extra_dejson == {"region": "eu"}


def test_add_needs_exactly_one_way_of_saying_it():
    with pytest.raises(CommandError, match="exactly one"):
        connections("add", "x")
    with pytest.raises(CommandError, match="exactly one"):
        connections("add", "x", "--conn-uri", "http://h", "--conn-type", "http")
    connections("add", "x", "--conn-type", "http")
    with pytest.raises(CommandError, match="already exists"):
        connections("add", "x", "--conn-type", "http")


def test_export_then_import_with_and_without_overwrite(tmp_path):
    connections("add", "db", "--conn-type", "postgres", "--conn-password", "pw")
    path = tmp_path / "conns.json"
    connections("export", str(path))
    assert json.loads(path.read_text())["db"]["password"] == "pw"
    Connection.objects.all().delete()
    assert connections("import", str(path)) == "Imported connection db\n"
    assert "already exists" in connections("import", str(path))
    assert connections("import", str(path), "--overwrite") == "Imported connection db\n"
    assert Connection.objects.get().password == "pw"


def test_create_default_connections_creates_airflows_known_ones_once():
    from dagruns.actions.connections import DEFAULT_CONNECTIONS
    from dagruns.models import AuditEvent
    from dagruns.sdk.hooks import HOOKS

    # Only connection types a hook here describes.
    assert {fields["conn_type"] for fields in DEFAULT_CONNECTIONS.values()} <= set(HOOKS)
    assert connections("create-default-connections") == "Created default connection fs_default\n"
    conn = Connection.objects.get(conn_id="fs_default")
    assert (conn.conn_type, conn.extra_dejson) == ("fs", {"path": "/"})  # Airflow's values
    conn.extra = {"path": "/data"}
    conn.save()
    # Idempotent: a second run, or one after someone changed a default, leaves it alone.
    assert "fs_default already exists: left unchanged" in connections("create-default-connections")
    assert Connection.objects.get(conn_id="fs_default").extra_dejson == {"path": "/data"}
    assert AuditEvent.objects.filter(event="connection_create").count() == 1


def test_test_runs_the_hooks_test_once_enabled(orch_settings, tmp_path):
    Connection.objects.create(conn_id="files", conn_type="fs", extra=json.dumps({"path": "/x"}))
    with pytest.raises(CommandError, match="Testing connections is disabled"):
        connections("test", "files")
    orch_settings.test_connection = "Enabled"
    assert "Connection failed!\nPath /x does not exist." in connections("test", "files")
    conn = Connection.objects.get(conn_id="files")
    conn.extra = json.dumps({"path": str(tmp_path)})
    conn.save()
    assert "Connection success!" in connections("test", "files")
    with pytest.raises(CommandError, match="Connection not found."):
        connections("test", "nope")
