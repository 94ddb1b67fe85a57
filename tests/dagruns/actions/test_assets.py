"""Asset references, events and queues (dagruns/actions/assets.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.actions.assets import (
    AssetEventRefused,
    OutletEvent,
    do_create_asset_event,
    do_register_outlet_events,
    do_sync_asset_references,
)
from dagruns.actions.audit import Actor
from dagruns.models import (
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagScheduleAssetAliasReference,
    DagScheduleAssetReference,
    TaskInletAssetReference,
    TaskInstance,
    TaskOutletAssetReference,
)
from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, serialize_dag
from tests.builders import add_run, store

pytestmark = pytest.mark.django_db

ORDERS = Asset("orders", uri="s3://bucket/orders")
USERS = Asset("users")
ALIAS = AssetAlias("daily")


def _producer(outlets=(ORDERS,), inlets=()):
    with DAG("producer", start_date=datetime(2024, 1, 1), auto_register=False) as dag:
        EmptyOperator(task_id="make", outlets=list(outlets), inlets=list(inlets))
    model = store(dag)
    do_sync_asset_references(model, serialize_dag(dag))
    return model


def _consumer(schedule, dag_id="consumer", paused=False):
    with DAG(dag_id, schedule=schedule, auto_register=False) as dag:
        EmptyOperator(task_id="use")
    model = store(dag, paused=paused)
    do_sync_asset_references(model, serialize_dag(dag))
    return model


def _succeeded_make(producer):
    run = add_run(producer, states={"make": "success"})
    return TaskInstance.objects.get(dag_run=run, task_id="make")


def _task_entry(producer):
    return next(t for t in producer.latest_version().serialized["tasks"] if t["task_id"] == "make")


def test_the_processor_records_schedule_and_task_references():
    producer = _producer(outlets=[ORDERS, ALIAS], inlets=[USERS])
    consumer = _consumer(ORDERS & ALIAS)
    assert list(
        TaskOutletAssetReference.objects.filter(dag=producer).values_list("asset__name", "task_id")
    ) == [("orders", "make")]
    assert TaskInletAssetReference.objects.get(dag=producer).asset.name == "users"
    assert DagScheduleAssetReference.objects.get(dag=consumer).asset.uri == "s3://bucket/orders"
    assert DagScheduleAssetAliasReference.objects.get(dag=consumer).alias.name == "daily"


def test_references_follow_the_dag_when_it_changes():
    consumer = _consumer([ORDERS])
    _consumer([USERS])
    assert [r.asset.name for r in DagScheduleAssetReference.objects.filter(dag=consumer)] == [
        "users"
    ]


def test_an_outlet_event_is_queued_for_each_unpaused_consumer():
    producer = _producer()
    _consumer([ORDERS], "a")
    _consumer([ORDERS], "b", paused=True)
    ti = _succeeded_make(producer)
    (event,) = do_register_outlet_events(
        ti,
        _task_entry(producer),
        [OutletEvent(name="orders", uri="s3://bucket/orders", extra={"rows": 3})],
    )
    assert (event.extra, event.source_dag_id, event.source_task_id, event.source_run_id) == (
        {"rows": 3},
        "producer",
        "make",
        ti.run_id,
    )
    assert list(AssetDagRunQueue.objects.values_list("target_dag_id", flat=True)) == ["a"]


def test_an_outlet_without_a_reported_extra_still_gets_its_event():
    producer = _producer()
    do_register_outlet_events(_succeeded_make(producer), _task_entry(producer), [])
    assert AssetEvent.objects.get().extra == {}


def test_alias_events_create_the_asset_and_resolve_the_alias():
    producer = _producer(outlets=[ALIAS])
    _consumer(ALIAS)
    reported = [
        OutletEvent(name="new", uri="s3://bucket/new", extra={"d": 1}, source_alias_name="daily")
    ]
    (event,) = do_register_outlet_events(_succeeded_make(producer), _task_entry(producer), reported)
    assert event.asset.uri == "s3://bucket/new"
    assert [a.name for a in event.source_aliases.all()] == ["daily"]
    assert list(
        AssetAliasModel.objects.get(name="daily").assets.values_list("name", flat=True)
    ) == ["new"]
    assert AssetDagRunQueue.objects.get().target_dag_id == "consumer"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (OutletEvent(name="other", uri="other"), "not an outlet"),
        (OutletEvent(name="x", uri="x", source_alias_name="nope"), "alias 'nope' is not an outlet"),
    ],
)
def test_events_for_what_is_not_an_outlet_are_refused(entry, message):
    producer = _producer()
    with pytest.raises(AssetEventRefused, match=message):
        do_register_outlet_events(_succeeded_make(producer), _task_entry(producer), [entry])


def test_an_event_from_the_api_is_marked_and_queued():
    _consumer([ORDERS])
    asset = AssetModel.objects.get(name="orders")
    event = do_create_asset_event(asset.pk, {"k": "v"}, Actor(name="tester"))
    assert event.extra == {"k": "v", "from_rest_api": True}
    assert event.source_dag_id == ""
    assert AssetDagRunQueue.objects.get().target_dag_id == "consumer"


def test_an_event_for_an_unknown_asset_is_refused():
    with pytest.raises(AssetEventRefused, match="`999` was not found"):
        do_create_asset_event(999, {}, Actor(name="tester"))


def test_an_event_wakes_the_schedulers_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    from dagruns.actions import assets as actions

    woken = []
    monkeypatch.setattr(actions, "wake_schedulers", lambda: woken.append(1))
    _consumer([ORDERS])
    asset = AssetModel.objects.get(name="orders")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        do_create_asset_event(asset.pk, {}, Actor(name="tester"))
    assert woken == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert woken == [1]
