"""Deleting a DAG's metadata."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.dag_delete import DagHasRunningTasks, do_delete_dag
from dagruns.actions.dags import DagNotFound
from dagruns.models import AuditEvent, DagModel, DagVersion, TaskInstance, XCom
from tests.builders import make_run

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_it_removes_runs_versions_and_xcoms_but_keeps_the_audit_log():
    run = make_run()
    XCom.objects.create(dag_run=run, dag_id="etl", run_id=run.run_id, task_id="extract", key="k")
    assert do_delete_dag("etl", ACTOR) == 1
    assert not DagModel.objects.exists() and not DagVersion.objects.exists()
    assert not TaskInstance.objects.exists() and not XCom.objects.exists()
    assert AuditEvent.objects.get().event == "delete_dag"


def test_it_refuses_while_a_task_runs_and_for_unknown_dags():
    run = make_run()
    TaskInstance.objects.filter(dag_run=run, task_id="extract").update(state="running")
    with pytest.raises(DagHasRunningTasks):
        do_delete_dag("etl", ACTOR)
    with pytest.raises(DagNotFound):
        do_delete_dag("nope", ACTOR)


def test_a_dry_delete_counts_the_runs_refuses_the_same_and_deletes_nothing(published, on_commit):
    make_run()
    with on_commit():
        assert do_delete_dag("etl", ACTOR, dry_run=True) == 1
    assert DagModel.objects.exists() and not AuditEvent.objects.exists() and published == []
    with on_commit():
        do_delete_dag("etl", ACTOR)
    assert [(e["kind"], e["dag_id"]) for e in published] == [("dag", "etl")]


def test_pausing_has_a_dry_run_and_emits_one_event(published, on_commit):
    from dagruns.actions.dags import do_set_paused

    make_run()
    assert do_set_paused("etl", True, ACTOR, dry_run=True).is_paused
    assert not DagModel.objects.get().is_paused and not AuditEvent.objects.exists()
    with on_commit():
        do_set_paused("etl", True, ACTOR)
        do_set_paused("etl", True, ACTOR)  # already paused: nothing more
    assert DagModel.objects.get().is_paused
    assert list(AuditEvent.objects.values_list("event", flat=True)) == ["paused"]
    assert [e["kind"] for e in published] == ["dag"]
