"""The clear dialog's "Dependent DAGs" option follows ExternalTaskMarkers into other DAGs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.models import DagRun, TaskInstance
from dagruns.sdk import DAG, EmptyOperator, ExternalTaskMarker, ExternalTaskSensor
from tests.builders import add_run, store

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def linked():
    with DAG("parent", schedule=None, start_date=WHEN, auto_register=False) as parent:
        ExternalTaskMarker(task_id="mark", external_dag_id="child", external_task_id="wait")
    with DAG("child", schedule=None, start_date=WHEN, auto_register=False) as child:
        ExternalTaskSensor(
            task_id="wait", external_dag_id="parent", external_task_id="mark"
        ) >> EmptyOperator(task_id="use")
    runs = {}
    for dag in (parent, child):
        model = store(dag, fileloc=f"/dags/{dag.dag_id}.py")
        tasks = [t.task_id for t in dag.tasks]
        runs[dag.dag_id] = add_run(
            model, state="success", when=WHEN, states=dict.fromkeys(tasks, "success")
        )
    return runs


def test_clearing_a_marker_with_dependent_dags_clears_the_marked_task_too(user, linked):
    run = linked["parent"]
    query = {"run_id": run.run_id, "task_id": "mark", "options": "1", "downstream": "1"}
    alone = user.get("/dags/parent/clear", query)
    assert [(i["dag_id"], i["task_id"]) for i in alone.context["items"]] == [("parent", "mark")]
    listing = user.get("/dags/parent/clear", {**query, "dependent_dags": "1"})
    assert [(i["dag_id"], i["task_id"]) for i in listing.context["items"]] == [
        ("parent", "mark"),
        ("child", "use"),
        ("child", "wait"),
    ]
    assert "Dependent DAGs" in listing.content.decode()
    user.post("/dags/parent/clear", {**query, "dependent_dags": "1", "confirm": "1"})
    assert set(TaskInstance.objects.values_list("dag_id", "task_id", "state")) == {
        ("parent", "mark", None),
        ("child", "wait", None),
        ("child", "use", None),
    }
    assert set(DagRun.objects.values_list("dag_id", "state")) == {
        ("parent", "running"),
        ("child", "running"),
    }
