"""The Execution API and assets: a success report carries outlet events; a refused event
leaves the try running; inlet events are read by asset or by alias."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from dagruns.actions.assets import do_sync_asset_references, register_asset_event
from dagruns.models import AssetAliasModel, AssetEvent, AssetModel, DagRun, TaskInstance
from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, serialize_dag
from tests.builders import store
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

ORDERS = Asset("orders", uri="s3://bucket/orders")


@pytest.fixture
def producing():
    """A claimed try of a task with an asset and an alias among its outlets."""
    with DAG("producer", start_date=datetime(2024, 1, 1), auto_register=False) as dag:
        EmptyOperator(task_id="make", outlets=[ORDERS, AssetAlias("daily")])
    model = store(dag)
    do_sync_asset_references(model, serialize_dag(dag))
    version = model.latest_version()
    now = timezone.now()
    run = DagRun.objects.create(
        dag=model, run_id="manual__1", run_type="manual", state="running", run_after=now,
        dag_version=version,
    )  # fmt: skip
    ti = TaskInstance.objects.create(
        dag_run=run, dag_version=version, dag_id="producer", run_id=run.run_id, task_id="make",
        state="queued", try_number=1, map_index=-1,
    )  # fmt: skip
    runner = Runner(ti)
    assert runner.run().status_code == 200
    return runner


def test_a_success_report_emits_the_outlet_events(producing):
    response = producing.finish(
        "success",
        outlet_events=[
            {"name": "orders", "uri": "s3://bucket/orders", "extra": {"rows": 3}},
            {"name": "part", "uri": "s3://bucket/part", "source_alias_name": "daily"},
        ],
    )
    assert response.status_code == 200, response.content
    by_name = {e.asset.name: e for e in AssetEvent.objects.select_related("asset")}
    assert by_name["orders"].extra == {"rows": 3}
    assert by_name["orders"].source_task_id == "make"
    assert [a.name for a in by_name["part"].source_aliases.all()] == ["daily"]


def test_a_refused_outlet_event_leaves_the_try_running(producing):
    response = producing.finish("success", outlet_events=[{"name": "other", "uri": "other"}])
    assert response.status_code == 422
    assert "not an outlet" in response.json()["detail"]["message"]
    producing.ti.refresh_from_db()
    assert producing.ti.state == "running"
    assert not AssetEvent.objects.exists()


def test_a_failure_emits_nothing(producing):
    assert producing.finish("failed", fail_without_retry=True).status_code == 200
    assert not AssetEvent.objects.exists()


def test_inlet_events_by_asset_and_by_alias(producing):
    asset = AssetModel.objects.get(name="orders")
    alias = AssetAliasModel.objects.get(name="daily")
    first = register_asset_event(asset, extra={"n": 1}, timestamp=timezone.now())
    second = register_asset_event(asset, extra={"n": 2}, timestamp=timezone.now(), aliases=[alias])
    by_asset = producing.call(
        "get", "asset-events/by-asset", name="orders", uri="s3://bucket/orders"
    ).json()["asset_events"]
    assert [e["id"] for e in by_asset] == [first.pk, second.pk]
    assert by_asset[0]["asset"] == {"name": "orders", "uri": "s3://bucket/orders", "group": "asset"}
    by_alias = producing.call("get", "asset-events/by-asset-alias", name="daily").json()
    assert [e["id"] for e in by_alias["asset_events"]] == [second.pk]
    assert by_alias["asset_events"][0]["source_aliases"] == [{"name": "daily"}]


def test_asset_events_need_a_token(producing):
    producing.token = None
    assert producing.call("get", "asset-events/by-asset", name="orders").status_code == 401


def test_inlet_events_are_narrowed_by_time_order_and_limit_as_airflow(producing):
    asset = AssetModel.objects.get(name="orders")
    at = [datetime(2024, 3, day, tzinfo=UTC) for day in (1, 2, 3)]
    made = [register_asset_event(asset, extra={}, timestamp=t) for t in at]

    def ids(**query):
        answer = producing.call("get", "asset-events/by-asset", name="orders", **query)
        assert answer.status_code == 200, answer.content
        return [e["id"] for e in answer.json()["asset_events"]]

    assert ids(after="2024-03-02T00:00:00Z") == [made[1].pk, made[2].pk]
    assert ids(before="2024-03-02T00:00:00Z") == [made[0].pk, made[1].pk]
    assert ids(ascending="false", limit=2) == [made[2].pk, made[1].pk]
    assert producing.call("get", "asset-events/by-asset", name="orders", limit=0).status_code == 422


def test_an_asset_is_read_by_name_or_is_404_naming_it(producing):
    found = producing.call("get", "assets/by-name", name="orders")
    assert found.status_code == 200
    assert found.json() == {
        "name": "orders",
        "uri": "s3://bucket/orders",
        "group": "asset",
        "extra": {},
    }
    missing = producing.call("get", "assets/by-name", name="nowhere")
    assert missing.status_code == 404
    assert missing.json()["detail"]["message"] == "No asset named 'nowhere'"
