"""Change events leave after commit and reach listeners over the bus (the local bus on
SQLite, PostgreSQL NOTIFY on PostgreSQL)."""

from __future__ import annotations

import json
import select

import pytest
from django.db import transaction

from dagruns.actions.audit import Actor
from dagruns.actions.dags import do_set_paused
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagModel
from dagruns.notify import bus, events
from dagruns.sdk import DAG, EmptyOperator
from tests.builders import START, store


@pytest.fixture
def listener(orch_settings, tmp_path):
    orch_settings.home = tmp_path
    listening = bus.Listener(events.TOPIC)
    yield listening
    listening.close()


def received(bus, timeout=2.0) -> list[dict]:
    select.select([bus], [], [], timeout)
    return [json.loads(p) for p in bus.receive_all()]


@pytest.mark.django_db(transaction=True)
def test_a_trigger_publishes_a_run_event_after_commit(listener):
    with DAG("evented", schedule=None, start_date=START) as dag:
        EmptyOperator(task_id="a")
    store(dag)
    with transaction.atomic():
        run = do_trigger_dag("evented", Actor(name="t"), run_id="r1")
        assert received(listener, timeout=0.1) == []  # nothing before the commit
    [event] = received(listener)
    assert event == {
        "kind": "run",
        "dag_id": "evented",
        "run_id": run.run_id,
        "task_id": "",
        "try_number": None,
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_publishes_nothing(listener):
    DagModel.objects.create(dag_id="quiet", fileloc="/x.py")
    with pytest.raises(RuntimeError), transaction.atomic():
        do_set_paused("quiet", True, Actor(name="t"))
        raise RuntimeError("roll back")
    assert received(listener, timeout=0.2) == []


def test_group_names_are_valid_for_any_dag_id():
    name = events.dag_group("<script>&ünïcode/" + "x" * 300)
    assert len(name) < 100 and name.replace("-", "").isalnum()


def test_publish_never_raises_without_listeners(orch_settings, tmp_path):
    orch_settings.home = tmp_path / "nobody-listens"
    events.publish({"kind": "dag", "dag_id": "x"})
