"""The Execution API's deferred state (Airflow 3's TIDeferredStatePayload) and the resume
point a claim hands back."""

from __future__ import annotations

import pytest

from dagruns.actions.deferral import do_fire_trigger
from dagruns.models import Trigger
from tests.builders import queue
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

DEFERRAL = {
    "classpath": "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
    "trigger_kwargs": {"moment": {"__type": "datetime", "__var": "2030-01-01T00:00:00+00:00"}},
    "trigger_timeout": "PT30S",
    "next_method": "execute_complete",
    "next_kwargs": {"n": 1},
}


def test_a_running_try_defers_and_its_slot_is_free(running):
    response = running.finish("deferred", **DEFERRAL)
    assert response.status_code == 200
    assert response.json() == {"state": "deferred"}
    running.ti.refresh_from_db()
    assert running.ti.state == "deferred"
    assert Trigger.objects.get().classpath == DEFERRAL["classpath"]


def test_trigger_timeout_may_be_seconds(running):
    assert running.finish("deferred", **{**DEFERRAL, "trigger_timeout": 30}).status_code == 200


@pytest.mark.parametrize("missing", ["classpath", "next_method"])
def test_deferring_without_a_trigger_or_a_resume_point_is_422(running, missing):
    body = {key: value for key, value in DEFERRAL.items() if key != missing}
    response = running.finish("deferred", **body)
    assert response.status_code == 422
    assert f"needs {missing}" in str(response.json())
    running.ti.refresh_from_db()
    assert running.ti.state == "running"


def test_deferral_fields_with_another_state_are_422(running):
    response = running.finish("success", next_method="x")
    assert response.status_code == 422
    assert "may only be sent with state 'deferred'" in str(response.json())


def test_a_claim_after_the_trigger_fired_names_the_method_and_the_event(running):
    running.finish("deferred", **DEFERRAL)
    do_fire_trigger(Trigger.objects.get().pk, "payload")
    ti = running.ti
    ti.refresh_from_db()
    queue(ti, try_number=ti.try_number)  # what the scheduler does: same try
    body = Runner(ti).run().json()
    assert body["next_method"] == "execute_complete"
    assert body["next_kwargs"] == {"n": 1, "event": "payload"}
    assert body["task_instance"]["try_number"] == 1


def test_a_first_claim_has_no_resume_point(runner):
    body = runner.run().json()
    assert body["next_method"] is None and body["next_kwargs"] is None


def test_the_rest_api_shows_a_deferred_task_instances_trigger_with_secrets_masked(
    running, admin_client
):
    body = {**DEFERRAL, "trigger_kwargs": {**DEFERRAL["trigger_kwargs"], "password": "s3cret"}}
    running.finish("deferred", **body)
    ti = running.ti
    response = admin_client.get(
        f"/api/v2/dags/{ti.dag_id}/dagRuns/{ti.run_id}/taskInstances/{ti.task_id}"
    )
    trigger = response.json()["trigger"]
    assert trigger["classpath"] == DEFERRAL["classpath"]
    assert trigger["id"] == Trigger.objects.get().pk and trigger["triggerer_id"] is None
    assert "datetime.datetime(2030, 1, 1" in trigger["kwargs"]
    assert "s3cret" not in trigger["kwargs"] and "***" in trigger["kwargs"]
