"""Triggering: the dry run checks everything and creates nothing; the trigger then creates
exactly the run the dry run described, with its audit row and event."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.models import AuditEvent, DagRun
from tests.builders import make_run

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_a_dry_trigger_describes_the_run_and_creates_nothing(published, on_commit):
    make_run()
    with on_commit():
        preview = do_trigger_dag("etl", ACTOR, run_id="mine", conf={"a": 1}, dry_run=True)
    assert preview.pk is None and (preview.run_id, preview.conf) == ("mine", {"a": 1})
    assert DagRun.objects.count() == 1 and not AuditEvent.objects.exists() and published == []
    with on_commit():
        run = do_trigger_dag("etl", ACTOR, run_id="mine", conf={"a": 1})
    assert (run.run_id, run.conf, run.dag_version_id) == ("mine", {"a": 1}, preview.dag_version_id)
    assert AuditEvent.objects.get().event == "trigger"
    assert [(e["kind"], e["run_id"]) for e in published] == [("run", "mine")]


def test_a_dry_trigger_refuses_a_run_id_already_taken():
    run = make_run()
    with pytest.raises(TriggerError, match="already has a run"):
        do_trigger_dag("etl", ACTOR, run_id=run.run_id, dry_run=True)


def test_a_trigger_stores_the_person_who_triggered_the_run(django_user_model):
    make_run()
    user = django_user_model.objects.create_user("ada", password="pw")
    assert do_trigger_dag("etl", Actor(user=user), run_id="ui").triggering_user_name == "ada"
    cli = Actor(name="cli:bob")
    assert do_trigger_dag("etl", cli, run_id="cli").triggering_user_name == "bob"
    # Neither a task nor another non-human source is a triggering user.
    task = Actor(name="task:etl.trigger")
    assert do_trigger_dag("etl", task, run_id="op").triggering_user_name == ""
    assert DagRun.objects.get(run_id="ui").triggering_user_name == "ada"
