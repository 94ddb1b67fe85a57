"""`/variables`: CRUD with Airflow's fields, masking of secret-looking keys, Op to change."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, Variable

pytestmark = pytest.mark.django_db


def test_create_read_update_delete(op, world):
    created = op.post("/variables", {"key": "limit", "value": "10", "description": "rows"})
    assert created.status_code == 201
    assert created.json() == {
        "key": "limit",
        "value": "10",
        "description": "rows",
        "is_encrypted": True,
        "team_name": None,
    }
    patched = op.patch("/variables/limit", {"key": "limit", "value": "20"})
    assert patched.json()["value"] == "20" and patched.json()["description"] == "rows"
    assert op.delete("/variables/limit").status_code == 204
    assert op.get("/variables/limit").status_code == 404


def test_json_values_are_stored_as_their_json_text(op, world):
    op.post("/variables", {"key": "cfg", "value": {"a": [1, 2]}})
    assert op.get("/variables/cfg").json()["value"] == '{"a": [1, 2]}'


def test_a_taken_key_is_409(op, world):
    assert op.post("/variables", {"key": "region", "value": "x"}).status_code == 409


def test_secret_looking_keys_are_masked(op, world):
    op.post("/variables", {"key": "api_key", "value": "abc"})
    assert op.get("/variables/api_key").json()["value"] == "***"
    assert Variable.objects.get(key="api_key").val == "abc"


def test_update_mask_limits_what_changes(op, world):
    op.patch(
        "/variables/region",
        {"key": "region", "value": "changed", "description": "new"},
        params={"update_mask": "description"},
    )
    var = Variable.objects.get(key="region")
    assert var.val == "eu" and var.description == "new"


def test_list_is_paged_and_filtered(viewer, world):
    for n in range(3):
        Variable.objects.create(key=f"batch_{n}")
    body = viewer.get("/variables", params={"variable_key_pattern": "batch", "limit": 2}).json()
    assert body["total_entries"] == 3 and len(body["variables"]) == 2


def test_a_viewer_reads_but_a_user_cannot_change(viewer, user, world):
    assert viewer.get("/variables/region").status_code == 200
    assert user.post("/variables", {"key": "k", "value": "v"}).status_code == 403


def test_changes_are_audited_without_the_value(op, world):
    op.post("/variables", {"key": "token_x", "value": "very-secret"})
    event = AuditEvent.objects.get(event="variable_create")
    assert event.extra == {"key": "token_x"} and event.owner == "otto"
