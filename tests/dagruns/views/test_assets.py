"""The assets pages and the DAG page's "Waits for"."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from dagruns.actions.assets import do_sync_asset_references, register_asset_event
from dagruns.models import AssetAliasModel, AssetModel, AssetWatcherModel, Trigger
from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, serialize_dag
from tests.builders import store

pytestmark = pytest.mark.django_db

ORDERS = Asset("orders", uri="s3://bucket/orders")


@pytest.fixture
def flow(settings):
    settings.DEBUG = False
    with DAG("producer", start_date=datetime(2024, 1, 1), auto_register=False) as producer:
        EmptyOperator(task_id="make", outlets=[ORDERS])
    with DAG("consumer", schedule=ORDERS | AssetAlias("daily"), auto_register=False) as consumer:
        EmptyOperator(task_id="use", inlets=[ORDERS])
    for dag in (producer, consumer):
        do_sync_asset_references(store(dag), serialize_dag(dag))
    asset = AssetModel.objects.get(name="orders")
    register_asset_event(
        asset,
        extra={"rows": 3},
        timestamp=timezone.now(),
        aliases=[AssetAliasModel.objects.get(name="daily")],
    )
    return asset


def test_the_list_shows_each_asset_with_its_counts(viewer, flow):
    html = viewer.get("/assets/").content.decode()
    assert f'href="/assets/{flow.pk}/"' in html
    assert "s3://bucket/orders" in html
    empty = viewer.get("/assets/", {"q": "nothing-like-it"}).content.decode()
    assert empty.count('href="/assets/') == 1  # the menu's link only


def test_the_asset_page_shows_producers_consumers_and_events(viewer, flow):
    response = viewer.get(f"/assets/{flow.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    producers = html[html.index("asset-producers") : html.index("asset-consumers")]
    consumers = html[html.index("asset-consumers") : html.index("asset-events")]
    assert "producer" in producers and "make" in producers
    assert "consumer" in consumers and "Reading tasks" in consumers
    events = html[html.index("asset-events") :]
    assert "rows" in events and "via daily" in events and "REST API" in events
    assert "Queued for" in html


def test_an_unknown_asset_is_404(viewer, flow):
    assert viewer.get("/assets/999999/").status_code == 404


def test_the_dag_page_says_which_assets_it_waits_for(viewer, flow):
    html = viewer.get("/dags/consumer/").content.decode()
    waits = html[html.index("waits-for") :]
    assert f'href="/assets/{flow.pk}/"' in waits and "alias daily" in waits


def test_the_dag_page_shows_asset_refs_linked_once_the_asset_exists(viewer, flow):
    schedule = Asset.ref(name="orders") & Asset.ref(uri="s3://not/yet")
    with DAG("by_ref", schedule=schedule, auto_register=False) as dag:
        EmptyOperator(task_id="use")
    do_sync_asset_references(store(dag), serialize_dag(dag))
    html = viewer.get("/dags/by_ref/").content.decode()
    waits = html[html.index("waits-for") :]
    assert f'<a href="/assets/{flow.pk}/">Asset.ref(name=&#x27;orders&#x27;)</a>' in waits
    assert "Asset.ref(uri=&#x27;s3://not/yet&#x27;)</dd>" in waits


def test_the_asset_page_shows_its_watchers_and_the_watcher_behind_an_event(viewer, flow):
    trigger = Trigger(classpath="airflow.providers.standard.triggers.file.FileDeleteTrigger")
    trigger.created_date = timezone.now()
    trigger.kwargs = {"filepath": "/in/a.csv"}
    trigger.save()
    AssetWatcherModel.objects.create(name="inbox_file", asset=flow, trigger=trigger)
    register_asset_event(
        flow, extra={"from_trigger": True}, timestamp=timezone.now(), watcher_name="inbox_file"
    )
    html = viewer.get(f"/assets/{flow.pk}/").content.decode()
    assert "Watchers" in html and "triggers.file.FileDeleteTrigger" in html
    events = html[html.index("asset-events") :]
    assert '<span class="muted">watcher</span> <span class="mono">inbox_file</span>' in events


def test_the_nav_links_to_assets(viewer, flow):
    assert 'href="/assets/"' in viewer.get("/").content.decode()


def test_a_stranger_cannot_see_assets(client, flow):
    assert client.get("/assets/").status_code in (302, 403)


def test_names_and_extras_are_escaped(viewer, flow):
    hostile = AssetModel.objects.create(name="<script>x()</script>", uri="x-evil://<b>")
    register_asset_event(hostile, extra={"k": "<img src=x>"}, timestamp=timezone.now())
    for path in ("/assets/", f"/assets/{hostile.pk}/"):
        html = viewer.get(path).content.decode()
        assert "<script>x()" not in html and "<img src=x>" not in html, path
        assert "&lt;script&gt;" in html, path
