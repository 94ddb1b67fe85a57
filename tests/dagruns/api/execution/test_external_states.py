"""Other DAGs' states for a running task: /dag-runs/count, /task-instances/count and
/task-instances/states (Airflow 3's Execution API routes for ExternalTaskSensor)."""

from __future__ import annotations

import pytest

from dagruns.models import DagVersion, TaskInstance
from tests.builders import LOGICAL_DATE, make_run

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
