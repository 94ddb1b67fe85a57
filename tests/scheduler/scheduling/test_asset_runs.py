"""Asset-triggered runs (scheduler/scheduling/asset_runs.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from dagruns.actions.assets import do_create_asset_event, do_sync_asset_references
from dagruns.actions.audit import Actor
from dagruns.models import AssetDagRunQueue, AssetModel, DagRun
from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, serialize_dag
from scheduler.scheduling.asset_runs import create_asset_triggered_runs
from tests.builders import store

pytestmark = pytest.mark.django_db

A, B = Asset("a"), Asset("b")


def _consumer(schedule, dag_id="consumer", **kwargs):
    with DAG(dag_id, schedule=schedule, auto_register=False, **kwargs) as dag:
        EmptyOperator(task_id="use")
    model = store(dag)
    do_sync_asset_references(model, serialize_dag(dag))
    return model


def _update(asset):
    row = AssetModel.objects.get(name=asset.name)
    return do_create_asset_event(row.pk, {}, Actor(name="test"))


def _tick():
    return create_asset_triggered_runs(timezone.now())


def test_all_of_waits_for_every_asset():
    _consumer(A & B)
    first = _update(A)
    assert _tick() == 0
    second = _update(B)
    assert _tick() == 1
    run = DagRun.objects.get()
    assert (run.run_type, run.triggered_by, run.logical_date) == ("asset_triggered", "asset", None)
    assert run.run_id.startswith("asset_triggered__")
    assert run.run_after == second.timestamp
    assert set(run.consumed_asset_events.all()) == {first, second}
    assert not AssetDagRunQueue.objects.exists()


def test_any_of_runs_on_either_and_consumes_only_new_events():
    _consumer(A | B)
    _update(A)
    assert _tick() == 1
    DagRun.objects.update(state="success")
    later = _update(B)
    assert _tick() == 1
    newest = DagRun.objects.order_by("-run_after").first()
    assert list(newest.consumed_asset_events.all()) == [later]


def test_a_schedule_on_assets_nobody_produces_waits():
    _consumer([Asset("never-produced")])
    assert _tick() == 0
    assert not DagRun.objects.exists()


def test_an_alias_schedule_runs_on_assets_it_resolved_to():
    from dagruns.models import AssetAliasModel

    _consumer(AssetAlias("al"))
    _consumer([Asset("x")], dag_id="holder")  # makes the asset row exist
    x = AssetModel.objects.get(name="x")
    AssetAliasModel.objects.get(name="al").assets.add(x)
    from dagruns.actions.assets import register_asset_event

    alias = AssetAliasModel.objects.get(name="al")
    register_asset_event(x, extra={}, timestamp=timezone.now(), aliases=[alias])
    assert _tick() == 2  # the alias consumer and the DAG scheduled on x itself
    assert DagRun.objects.filter(dag_id="consumer").exists()


def test_max_active_runs_holds_the_queue():
    _consumer([A], max_active_runs=1)
    _update(A)
    assert _tick() == 1
    _update(A)
    assert _tick() == 0
    assert AssetDagRunQueue.objects.count() == 1
    DagRun.objects.update(state="success")
    assert _tick() == 1


def test_an_asset_or_time_schedule_dag_is_also_asset_triggered():
    from dagruns.sdk import AssetOrTimeSchedule
    from dagruns.sdk.timetables.trigger import CronTriggerTimetable

    _consumer(
        AssetOrTimeSchedule(
            timetable=CronTriggerTimetable("0 0 * * *", timezone="UTC"), assets=[A]
        ),
        start_date=datetime(2024, 1, 1),
    )
    _update(A)
    assert _tick() == 1
