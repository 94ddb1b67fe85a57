"""`/assets…`: Airflow's asset, alias, event and queued-event answers; POST an event."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.actions.assets import do_sync_asset_references
from dagruns.models import AssetAliasModel, AssetDagRunQueue, AssetEvent, AssetModel, DagRun
from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, serialize_dag
from tests.builders import store

pytestmark = pytest.mark.django_db

ORDERS = Asset("orders", uri="s3://bucket/orders")


@pytest.fixture
def assets():
    with DAG("producer", start_date=datetime(2024, 1, 1), auto_register=False) as producer:
        EmptyOperator(task_id="make", outlets=[ORDERS, AssetAlias("al")])
    with DAG("consumer", schedule=[ORDERS], auto_register=False) as consumer:
        EmptyOperator(task_id="use")
    for dag in (producer, consumer):
        do_sync_asset_references(store(dag), serialize_dag(dag))
    return AssetModel.objects.get(name="orders")


def test_list_and_get_show_producers_and_consumers(viewer, assets):
    listed = viewer.get("/assets").json()
    assert listed["total_entries"] == 1
    (asset,) = listed["assets"]
    assert (asset["id"], asset["name"], asset["uri"], asset["group"]) == (
        assets.pk,
        "orders",
        "s3://bucket/orders",
        "asset",
    )
    assert [r["dag_id"] for r in asset["scheduled_dags"]] == ["consumer"]
    assert [(r["dag_id"], r["task_id"]) for r in asset["producing_tasks"]] == [("producer", "make")]
    assert asset["consuming_tasks"] == [] and asset["last_asset_event"] is None
    assert viewer.get(f"/assets/{assets.pk}").json() == asset
    assert viewer.get("/assets/999999").status_code == 404


def test_list_filters(viewer, assets):
    assert viewer.get("/assets", params={"uri_pattern": "bucket"}).json()["total_entries"] == 1
    assert viewer.get("/assets", params={"name_pattern": "nope"}).json()["total_entries"] == 0
    assert viewer.get("/assets", params={"dag_ids": "consumer"}).json()["total_entries"] == 1
    assert viewer.get("/assets", params={"dag_ids": "other"}).json()["total_entries"] == 0
    assert viewer.get("/assets", params={"order_by": "bogus"}).status_code == 400


def test_posting_an_event_queues_the_consumer(user, viewer, assets):
    response = user.post("/assets/events", {"asset_id": assets.pk, "extra": {"k": 1}})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["extra"] == {"k": 1, "from_rest_api": True}
    assert (body["asset_id"], body["uri"], body["source_dag_id"]) == (
        assets.pk,
        "s3://bucket/orders",
        None,
    )
    assert AssetDagRunQueue.objects.get().target_dag_id == "consumer"
    queued = viewer.get("/dags/consumer/assets/queuedEvents").json()
    assert queued["queued_events"][0]["asset_id"] == assets.pk
    assert viewer.get(f"/assets/{assets.pk}/queuedEvents").json()["total_entries"] == 1
    events = viewer.get("/assets/events", params={"asset_id": assets.pk}).json()
    assert [e["id"] for e in events["asset_events"]] == [body["id"]]
    assert viewer.get(f"/assets/{assets.pk}").json()["last_asset_event"]["id"] == body["id"]


def test_posting_needs_the_user_role_and_a_known_asset(viewer, user, assets):
    assert viewer.post("/assets/events", {"asset_id": assets.pk}).status_code == 403
    assert user.post("/assets/events", {"asset_id": 424242}).status_code == 404
    assert user.post("/assets/events", {"asset_id": assets.pk, "bogus": 1}).status_code == 422
    assert not AssetEvent.objects.exists()


def test_events_list_the_runs_they_triggered(viewer, user, assets):
    from django.utils import timezone

    from scheduler.scheduling.asset_runs import create_asset_triggered_runs

    event_id = user.post("/assets/events", {"asset_id": assets.pk}).json()["id"]
    assert create_asset_triggered_runs(timezone.now()) == 1
    run = DagRun.objects.get()
    (event,) = viewer.get("/assets/events").json()["asset_events"]
    assert event["id"] == event_id
    assert [r["run_id"] for r in event["created_dagruns"]] == [run.run_id]


def test_aliases(viewer, assets):
    alias = AssetAliasModel.objects.get(name="al")
    listed = viewer.get("/assets/aliases").json()
    assert listed == {
        "asset_aliases": [{"id": alias.pk, "name": "al", "group": "asset"}],
        "total_entries": 1,
    }
    assert viewer.get(f"/assets/aliases/{alias.pk}").json()["name"] == "al"
    assert viewer.get("/assets/aliases/999999").status_code == 404


def test_queued_events_of_nothing_are_404(viewer, assets):
    assert viewer.get("/dags/consumer/assets/queuedEvents").status_code == 404
    assert viewer.get("/dags/missing/assets/queuedEvents").status_code == 404


def test_queued_events_can_be_read_per_pair_and_deleted(viewer, user, assets):
    from dagruns.models import AuditEvent

    user.post("/assets/events", {"asset_id": assets.pk})
    one = viewer.get(f"/dags/consumer/assets/{assets.pk}/queuedEvents")
    assert one.status_code == 200 and one.json()["dag_id"] == "consumer"
    assert viewer.delete("/dags/consumer/assets/queuedEvents").status_code == 403
    assert user.delete(f"/dags/consumer/assets/{assets.pk}/queuedEvents").status_code == 204
    assert not AssetDagRunQueue.objects.exists()
    assert AuditEvent.objects.filter(event="delete_queued_asset_events").count() == 1
    assert user.delete(f"/assets/{assets.pk}/queuedEvents").status_code == 404


def test_dag_details_give_the_asset_expression(viewer, assets):
    details = viewer.get("/dags/consumer/details").json()
    assert details["asset_expression"] == {
        "all": [{"asset": {"uri": "s3://bucket/orders", "name": "orders", "group": "asset"}}]
    }
    assert viewer.get("/dags/producer/details").json()["asset_expression"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/assets/99999999999999999999",
        "/assets/99999999999999999999/queuedEvents",
        "/dags/consumer/assets/99999999999999999999/queuedEvents",
        "/assets/aliases/99999999999999999999",
    ],
)
def test_an_id_beyond_the_databases_integer_range_is_not_found(viewer, assets, path):
    """No row can have it: the documented 404, not the driver's overflow (a 400 on SQLite)."""
    assert viewer.get(path).status_code == 404
