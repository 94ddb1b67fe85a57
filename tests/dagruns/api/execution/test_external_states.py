"""Other DAGs' states for a running task: /dag-runs/count, /task-instances/count and
/task-instances/states (Airflow 3's Execution API routes for ExternalTaskSensor), /dags/{dag_id};
and for the trigger of a deferred try with its read-only token, which no other route takes."""

from __future__ import annotations

import pytest

from dagruns.domain.tokens import TRIGGER_SCOPE, issue_token
from dagruns.models import DagVersion, TaskInstance
from tests.builders import LOGICAL_DATE, make_run
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

WHEN = LOGICAL_DATE.isoformat().replace("+", "%2B")


@pytest.fixture
def other_run(db):
    run = make_run("other", edges={"g.a": ["g.b"], "g.b": [], "solo": []}, run_id="r1")
    version = DagVersion.objects.get(dag_id="other")
    version.serialized["task_group"] = {
        "group_id": None,
        "children": [{"group_id": "g", "children": ["g.a", "g.b"]}, "solo"],
    }
    version.save()
    TaskInstance.objects.filter(dag_run=run, task_id="g.a").update(state="success")
    TaskInstance.objects.filter(dag_run=run, task_id="solo").update(state="failed")
    return run


def test_dag_run_count_by_logical_date_and_state(running, other_run):
    get = running.call
    assert get("get", "dag-runs/count", dag_id="other", logical_dates=WHEN).json() == 1
    assert (
        get("get", "dag-runs/count", dag_id="other", logical_dates=WHEN, states="success").json()
        == 0
    )
    assert get("get", "dag-runs/count", dag_id="nope").json() == 0


def test_task_instance_count_by_tasks_and_states(running, other_run):
    url = (
        "task-instances/count?dag_id=other&task_ids=g.a&task_ids=solo&states=success&states=failed"
    )
    assert running.call("get", url).json() == 2
    assert running.call("get", "task-instances/count", dag_id="other", states="none").json() == 1


def test_task_states_of_a_task_group(running, other_run):
    response = running.call(
        "get", "task-instances/states", dag_id="other", task_group_id="g", logical_dates=WHEN
    )
    assert response.status_code == 200
    assert response.json() == {"task_states": {"r1": {"g.a": "success", "g.b": None}}}


def test_only_a_running_try_may_ask(runner, other_run):
    response = runner.call("get", "dag-runs/count", dag_id="other")
    assert response.status_code == 403


def test_the_dag_route_says_whether_a_dag_exists_and_is_active(running, other_run):
    assert running.call("get", "dags/other").json() == {
        "dag_id": "other",
        "is_paused": False,
        "is_active": True,
    }
    missing = running.call("get", "dags/nope")
    assert (
        missing.status_code == 404 and "DAG 'nope' not found" in missing.json()["detail"]["message"]
    )


def test_a_trigger_token_reads_states_while_its_try_is_deferred_and_writes_nothing(
    running, other_run
):
    ti = running.ti
    trigger = Runner(ti, issue_token(ti.id, ti.try_number, scope=TRIGGER_SCOPE))
    # While the try runs, its trigger's token is not yet good: the try is not deferred.
    refused = trigger.call("get", "dag-runs/count", dag_id="other")
    assert refused.status_code == 403 and "not deferred" in refused.json()["detail"]
    TaskInstance.objects.filter(pk=ti.pk).update(state="deferred")
    assert trigger.call("get", "dag-runs/count", dag_id="other").json() == 1
    assert trigger.call("get", "task-instances/count", dag_id="other", states="failed").json() == 1
    assert trigger.call("get", "task-instances/states", dag_id="other").status_code == 200
    assert trigger.call("get", "dag-runs/other/r1/state").json() == {"state": "running"}
    assert trigger.call("get", "dags/other").status_code == 200
    # Every other route refuses the token: a trigger reads, it never writes.
    for answer in (
        trigger.set_xcom("k", 1),
        trigger.get_xcom("k"),
        trigger.heartbeat(),
        trigger.finish("success"),
        trigger.call("get", "variables/v"),
        trigger.call("post", "dag-runs/other/r2", {"conf": {}, "reset_dag_run": False}),
    ):
        assert answer.status_code == 401, answer.content
        assert "may only read other DAGs' states" in answer.json()["detail"]
    # A running try's own token cannot read once the try is deferred.
    assert running.call("get", "dag-runs/count", dag_id="other").status_code == 403
