"""`/dags/{dag_id}/dagRuns…`: list, batch list, get, trigger, patch, delete, clear."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.models import AuditEvent, DagRun, DagRunState, TaskInstance
from tests.builders import make_run
from tests.dagruns.api.rest.conftest import RUN_ID, ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(world):
    make_run(
        dag_id="etl", run_id="scheduled__2024-02-01", logical_date=datetime(2024, 2, 1, tzinfo=UTC)
    )
    DagRun.objects.filter(run_id="scheduled__2024-02-01").update(state="failed")
    manual = make_run(dag_id="etl", run_id="manual__1", logical_date=None)
    DagRun.objects.filter(pk=manual.pk).update(run_type="manual", state="success")
    make_run(dag_id="other", run_id="scheduled__2024-01-05")
    return world


def listed(api, path="/dags/etl/dagRuns", **params):
    return ids(api.get(path, params=params).json()["dag_runs"], "dag_run_id")


def test_lists_runs_of_a_dag_with_airflows_fields(admin, runs):
    body = admin.get("/dags/etl/dagRuns").json()
    assert body["total_entries"] == 3
    first = body["dag_runs"][0]
    assert first["dag_run_id"] == RUN_ID and first["run_type"] == "scheduled"
    assert first["dag_versions"][0]["version_number"] == 1
    assert first["conf"] == {"source": "test"}


def test_filters_on_state_dates_and_run_type(admin, runs):
    assert listed(admin, state="failed") == ["scheduled__2024-02-01"]
    assert listed(admin, state=["failed", "success"]) == ["scheduled__2024-02-01", "manual__1"]
    assert listed(admin, run_type="manual") == ["manual__1"]
    assert listed(admin, logical_date_gte="2024-01-15T00:00:00Z") == ["scheduled__2024-02-01"]
    assert listed(admin, logical_date_lt="2024-01-15T00:00:00+00:00") == [RUN_ID]
    assert listed(admin, order_by="-logical_date")[0] == "scheduled__2024-02-01"


def test_tilde_lists_runs_of_every_dag(admin, runs):
    assert len(listed(admin, "/dags/~/dagRuns")) == 4
    assert admin.get("/dags/nope/dagRuns").status_code == 404


def test_the_batch_list_filters_by_body(admin, runs):
    response = admin.post(
        "/dags/~/dagRuns/list", {"dag_ids": ["etl"], "states": ["failed"], "page_limit": 5}
    )
    assert ids(response.json()["dag_runs"], "dag_run_id") == ["scheduled__2024-02-01"]
    assert admin.post("/dags/etl/dagRuns/list", {}).status_code == 422  # only `~`


def test_trigger_creates_a_queued_manual_run_with_conf_and_note(user, world):
    response = user.post(
        "/dags/etl/dagRuns",
        {
            "dag_run_id": "api_run",
            "conf": {"n": 2},
            "note": "by hand",
            "logical_date": "2024-05-01T00:00:00Z",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "queued" and body["run_type"] == "manual"
    assert body["triggered_by"] == "rest_api" and body["note"] == "by hand"
    assert body["triggering_user_name"] == "uma"
    assert body["logical_date"] == "2024-05-01T00:00:00Z"
    run = DagRun.objects.get(run_id="api_run")
    assert run.conf == {"n": 2} and TaskInstance.objects.filter(dag_run=run).count() == 2
    assert AuditEvent.objects.get(event="trigger", run_id="api_run").owner == "uma"


def test_trigger_without_logical_date_makes_a_run_without_one(user, world):
    body = user.post("/dags/etl/dagRuns", {}).json()
    assert body["logical_date"] is None and body["dag_run_id"].startswith("manual__")


def test_trigger_with_a_taken_run_id_is_409(user, world):
    assert user.post("/dags/etl/dagRuns", {"dag_run_id": RUN_ID}).status_code == 409


def test_trigger_with_conf_that_is_not_an_object_is_422(user, world):
    assert user.post("/dags/etl/dagRuns", {"conf": [1, 2]}).status_code == 422


def test_patch_state_to_success_settles_tasks(user, world):
    response = user.patch(f"/dags/etl/dagRuns/{RUN_ID}", {"state": "success"})
    assert response.status_code == 200 and response.json()["state"] == "success"
    states = set(TaskInstance.objects.filter(run_id=RUN_ID).values_list("state", flat=True))
    assert "failed" in states or states == {"success"}


def test_patch_note_only_with_update_mask(user, world):
    response = user.patch(
        f"/dags/etl/dagRuns/{RUN_ID}",
        {"state": "failed", "note": "looked at it"},
        params={"update_mask": "note"},
    )
    assert response.json()["note"] == "looked at it"
    assert DagRun.objects.get(run_id=RUN_ID).state == DagRunState.RUNNING


def test_delete_removes_the_run(user, world):
    assert user.delete(f"/dags/etl/dagRuns/{RUN_ID}").status_code == 204
    assert not DagRun.objects.filter(run_id=RUN_ID).exists()
    assert user.get(f"/dags/etl/dagRuns/{RUN_ID}").status_code == 404


def test_clear_is_a_dry_run_by_default_and_clears_when_asked(user, world):
    dry = user.post(f"/dags/etl/dagRuns/{RUN_ID}/clear", {"only_failed": True})
    assert ids(dry.json()["task_instances"], "task_id") == ["extract"]
    assert TaskInstance.objects.get(task_id="extract").state == "failed"
    done = user.post(f"/dags/etl/dagRuns/{RUN_ID}/clear", {"dry_run": False, "only_failed": True})
    assert done.status_code == 200 and done.json()["dag_run_id"] == RUN_ID
    assert TaskInstance.objects.get(task_id="extract").state is None


def test_a_run_named_list_is_still_reachable(user, world):
    from tests.builders import make_run as make

    make(dag_id="etl", run_id="list", logical_date=None)
    assert user.get("/dags/etl/dagRuns/list").json()["dag_run_id"] == "list"
    assert user.patch("/dags/etl/dagRuns/list", {"note": "n"}).json()["note"] == "n"
    assert user.delete("/dags/etl/dagRuns/list").status_code == 204
    assert user.get("/dags/etl/dagRuns/list").status_code == 404
