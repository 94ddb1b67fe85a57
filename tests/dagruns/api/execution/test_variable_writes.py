"""A running task writes variables through the Execution API: PUT creates or replaces, DELETE
removes; each write is audited with the task instance that made it."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, Variable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]


def stored(key: str) -> Variable | None:
    return Variable.objects.filter(key=key).first()


def test_put_creates_a_variable_and_audits_the_task_instance(running):
    response = running.call("put", "variables/region", {"value": "eu", "description": "where"})

    assert response.status_code == 201
    assert response.json() == {"message": "Variable successfully set"}
    var = stored("region")
    assert (var.val, var.description) == ("eu", "where")
    event = AuditEvent.objects.get(event="variable_create")
    ti = running.ti
    assert event.extra == {"key": "region"}
    assert (event.dag_id, event.run_id, event.task_id) == (ti.dag_id, ti.run_id, ti.task_id)
    assert (event.map_index, event.try_number) == (ti.map_index, ti.try_number)
    assert event.owner == f"task:{ti.dag_id}.{ti.task_id}"


def test_put_replaces_the_value_and_keeps_the_description_unless_given(running):
    running.call("put", "variables/region", {"value": "eu", "description": "where"})

    assert running.call("put", "variables/region", {"value": "us"}).status_code == 201

    var = stored("region")
    assert (var.val, var.description) == ("us", "where")
    assert AuditEvent.objects.filter(event="variable_update", extra={"key": "region"}).exists()


def test_put_with_a_key_path_keeps_its_slashes(running):
    assert running.call("put", "variables/team/a/limit", {"value": "3"}).status_code == 201
    assert stored("team/a/limit").val == "3"


def test_put_of_a_value_that_is_not_a_string_is_422(running):
    response = running.call("put", "variables/region", {"value": 5})

    assert response.status_code == 422
    assert stored("region") is None


def test_put_of_a_value_with_a_nul_character_is_422_naming_the_variable(running):
    response = running.call("put", "variables/region", {"value": "a\x00b"})

    assert response.status_code == 422
    assert "region" in str(response.json()["detail"])
    assert stored("region") is None


def test_delete_removes_the_variable_and_audits_it(running):
    running.call("put", "variables/scratch", {"value": "x"})

    assert running.call("delete", "variables/scratch").status_code == 204

    assert stored("scratch") is None
    event = AuditEvent.objects.get(event="variable_delete")
    assert (event.extra, event.task_id) == ({"key": "scratch"}, running.ti.task_id)


def test_deleting_a_missing_variable_is_not_an_error_and_not_audited(running):
    assert running.call("delete", "variables/nope").status_code == 204
    assert not AuditEvent.objects.filter(event="variable_delete").exists()


def test_writes_need_a_token_and_a_running_try(runner):
    assert runner.call("put", "variables/k", {"value": "v"}).status_code == 403  # queued
    assert runner.call("delete", "variables/k").status_code == 403
    runner.token = ""
    assert runner.call("put", "variables/k", {"value": "v"}).status_code == 401
    assert stored("k") is None
