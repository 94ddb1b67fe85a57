"""The link between a TriggerDagRunOperator's task instance and the run it triggered: the
task instance page shows Airflow's "Triggered DAG" link, the child's runs list links back."""

from __future__ import annotations

import pytest

from dagruns.models import DagRun
from tests.builders import add_run, store_dag, ti_of

pytestmark = pytest.mark.django_db


def test_the_triggering_task_links_to_the_triggered_run_and_back(viewer):
    parent = add_run(store_dag("parent", {"trigger": []}), "p1", states={"trigger": "success"})
    child = add_run(store_dag("child", {"work": []}), "c1", run_type="manual")
    ti = ti_of(parent, "trigger")
    DagRun.objects.filter(pk=child.pk).update(triggered_by_ti=ti, triggered_by="operator")
    page = viewer.get("/dags/parent/runs/p1/tasks/trigger").content.decode()
    assert 'data-action="triggered-dag" data-dag-id="child" data-run-id="c1"' in page
    assert 'href="/dags/child/graph?run_id=c1"' in page and "Triggered DAG" in page
    runs = viewer.get("/dags/child/runs").content.decode()
    assert 'href="/dags/parent/runs/p1/tasks/trigger"' in runs and "by parent.trigger" in runs


def test_a_task_that_triggered_nothing_has_no_link(viewer):
    add_run(store_dag("plain", {"a": []}), "r1", states={"a": "success"})
    assert "triggered-dag" not in viewer.get("/dags/plain/runs/r1/tasks/a").content.decode()
