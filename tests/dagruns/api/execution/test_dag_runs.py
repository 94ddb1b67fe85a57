"""`/execution/dag-runs/…`: a running try triggers another DAG's run (recording itself as the
trigger), is told 409 when the run exists, clears it with reset_dag_run, and reads its state;
only a live try may."""

from __future__ import annotations

import pytest

from dagruns.models import DagRun, TaskInstance
from tests.builders import store_dag

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]
PATH = "dag-runs/child/manual__one"


@pytest.fixture
def child(db):
    return store_dag("child", {"work": []})


def test_it_triggers_the_run_recording_the_task_instance(running, child):
    body = {"logical_date": "2024-03-01T00:00:00Z", "conf": {"n": 1}}
    response = running.call("post", PATH, body)
    assert response.status_code == 204, response.content
    run = DagRun.objects.get(dag_id="child")
    assert (run.run_id, run.run_type, run.triggered_by, run.conf) == (
        "manual__one",
        "manual",
        "operator",
        {"n": 1},
    )
    assert run.logical_date.isoformat() == "2024-03-01T00:00:00+00:00"
    assert run.triggered_by_ti_id == running.ti.pk
    state = running.call("get", f"{PATH}/state")
    assert state.json() == {"state": "queued"}


def test_an_existing_run_is_409_unless_reset_clears_it(running, child):
    running.call("post", PATH, {"logical_date": None})
    again = running.call("post", PATH, {"logical_date": None})
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "already_exists"
    run = DagRun.objects.get(dag_id="child")
    DagRun.objects.filter(pk=run.pk).update(state="failed")
    TaskInstance.objects.filter(dag_run=run).update(state="failed", try_number=1)
    reset = running.call("post", PATH, {"logical_date": None, "reset_dag_run": True})
    assert reset.status_code == 204
    run.refresh_from_db()
    assert run.state == "running" and run.clear_number == 1
    assert set(TaskInstance.objects.filter(dag_run=run).values_list("state", flat=True)) == {None}


def test_unknown_dags_and_runs_are_404_and_bad_conf_400(running, child):
    assert running.call("post", "dag-runs/nope/r1", {}).status_code == 404
    assert running.call("get", "dag-runs/child/nope/state").status_code == 404
    assert running.call("post", PATH, {"conf": [1]}).status_code == 422
    bad_id = running.call("post", "dag-runs/child/has space", {})
    assert bad_id.status_code == 400 and "run_id" in bad_id.json()["detail"]["message"]


def test_a_try_that_is_not_running_is_refused(runner, child):
    assert runner.call("post", PATH, {}).status_code == 403
    assert not DagRun.objects.filter(dag_id="child").exists()
