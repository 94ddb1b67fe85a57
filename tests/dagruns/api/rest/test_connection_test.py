"""`POST /connections/test`: the hook's own test, gated by ORCH_TEST_CONNECTION, with the
stored connection's secrets kept when the body leaves them out."""

from __future__ import annotations

import json

import pytest

from dagruns.actions.connection_test import TESTING_DISABLED
from dagruns.models import AuditEvent, Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def enabled(orch_settings):
    orch_settings.test_connection = "Enabled"


@pytest.mark.parametrize("mode", ["Disabled", "Hidden"])
def test_it_is_refused_with_airflows_message_unless_enabled(op, orch_settings, mode):
    orch_settings.test_connection = mode
    response = op.post("/connections/test", {"connection_id": "x", "conn_type": "fs"})
    assert response.status_code == 403
    assert response.json() == {"detail": TESTING_DISABLED}


def test_an_fs_connection_whose_path_exists_passes(op, enabled, tmp_path):
    body = {
        "connection_id": "files",
        "conn_type": "fs",
        "extra": json.dumps({"path": str(tmp_path)}),
    }
    response = op.post("/connections/test", body)
    assert response.status_code == 200
    assert response.json() == {"status": True, "message": f"Path {tmp_path} is existing."}
    assert not Connection.objects.filter(conn_id="files").exists()  # nothing saved
    event = AuditEvent.objects.get(event="connection_test")
    assert event.extra == {"conn_id": "files", "status": True}


def test_a_missing_path_fails_with_the_hooks_message(op, enabled, tmp_path):
    missing = tmp_path / "gone"
    body = {
        "connection_id": "files",
        "conn_type": "fs",
        "extra": json.dumps({"path": str(missing)}),
    }
    assert op.post("/connections/test", body).json() == {
        "status": False,
        "message": f"Path {missing} does not exist.",
    }


def test_the_stored_connection_fills_what_the_body_leaves_out(op, enabled, tmp_path):
    Connection.objects.create(
        conn_id="stored", conn_type="fs", extra=json.dumps({"path": str(tmp_path)})
    )
    response = op.post("/connections/test", {"connection_id": "stored", "conn_type": "fs"})
    assert response.json()["status"] is True


def test_a_masked_extra_value_keeps_the_stored_one(op, enabled, tmp_path):
    Connection.objects.create(
        conn_id="stored", conn_type="fs", extra=json.dumps({"path": str(tmp_path), "token": "t0p"})
    )
    body = {
        "connection_id": "stored",
        "conn_type": "fs",
        "extra": json.dumps({"path": str(tmp_path), "token": "***"}),
    }
    assert op.post("/connections/test", body).json()["status"] is True
    assert Connection.objects.get(conn_id="stored").extra_dejson["token"] == "t0p"


def test_a_type_without_a_hook_fails_naming_the_type(op, enabled):
    body = {"connection_id": "pg", "conn_type": "postgres", "host": "db.example"}
    result = op.post("/connections/test", body).json()
    assert result["status"] is False
    assert 'Unknown hook type "postgres"' in result["message"]


def test_a_hook_without_a_test_says_so(op, enabled, monkeypatch):
    from dagruns.sdk import hooks

    class NoTestHook(hooks.BaseHook):
        conn_name_attr = "conn_id"
        conn_type = "notest"

        def __init__(self, conn_id: str) -> None:
            super().__init__()
            self.conn = self.get_connection(conn_id)

    monkeypatch.setitem(hooks.HOOKS, "notest", NoTestHook)
    result = op.post("/connections/test", {"connection_id": "n", "conn_type": "notest"}).json()
    assert result == {
        "status": False,
        "message": "Hook NoTestHook doesn't implement or inherit test_connection method",
    }


def test_bad_fields_are_a_400_naming_them(op, enabled):
    response = op.post("/connections/test", {"connection_id": "x y", "conn_type": "fs"})
    assert response.status_code in (400, 422)


def test_it_needs_the_op_role(user, enabled):
    assert (
        user.post("/connections/test", {"connection_id": "x", "conn_type": "fs"}).status_code == 403
    )
