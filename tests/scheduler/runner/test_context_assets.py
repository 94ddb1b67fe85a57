"""The context's asset keys in a running task: outlet_events collects what the success report
sends, inlet_events reads through the supervisor, triggering_asset_events comes from the
claim answer of an asset-triggered run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from dagruns.sdk import DAG, Asset, AssetAlias, EmptyOperator, Metadata, PythonOperator
from dagruns.sdk.exceptions import AirflowException
from scheduler.runner.context import DagRunInfo, RuntimeTaskInstance, build_context
from tests.scheduler.runner.test_context import RUN

ORDERS = Asset("orders", uri="s3://bucket/orders")
ALIAS = AssetAlias("daily")
EVENT = {
    "id": 7,
    "timestamp": "2024-03-05T06:00:00Z",
    "extra": {"rows": 3},
    "asset": {"name": "orders", "uri": "s3://bucket/orders", "group": "asset"},
    "source_dag_id": "producer",
    "source_task_id": "make",
    "source_run_id": "r1",
    "source_map_index": -1,
    "source_aliases": [{"name": "daily"}],
}


class AssetComms:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def request(self, op: str, **args: Any) -> Any:
        assert op == "get_asset_events"
        self.requests.append(args)
        return [EVENT]


def _context(task: Any, run: dict[str, Any] | None = None) -> tuple[dict, AssetComms]:
    comms = AssetComms()
    dag_run = DagRunInfo.from_api(run or RUN)
    ti = RuntimeTaskInstance(
        comms,  # type: ignore[arg-type]
        dag_id=task.dag.dag_id,
        run_id=dag_run.run_id,
        task_id=task.task_id,
        try_number=1,
        max_tries=0,
        task=task,
    )
    context = build_context(task=task, dag=task.dag, dag_run=dag_run, ti=ti, comms=comms)  # type: ignore[arg-type]
    return context, comms


def _task(**kwargs: Any) -> Any:
    with DAG("etl", start_date=datetime(2024, 1, 1), auto_register=False):
        return EmptyOperator(task_id="t", **kwargs)


def test_outlet_events_serialize_one_entry_per_outlet_and_per_alias_addition():
    task = _task(outlets=[ORDERS, ALIAS])
    context, _ = _context(task)
    context["outlet_events"][ORDERS].extra["rows"] = 3
    context["outlet_events"][ALIAS].add(Asset("s3://bucket/day/1"), extra={"day": 1})
    assert context["outlet_events"].serialize(task.outlets) == [
        {"name": "orders", "uri": "s3://bucket/orders", "group": "asset", "extra": {"rows": 3}},
        {
            "name": "s3://bucket/day/1",
            "uri": "s3://bucket/day/1",
            "group": "asset",
            "extra": {"day": 1},
            "source_alias_name": "daily",
        },
    ]


def test_an_event_for_something_that_is_not_an_outlet_is_refused():
    task = _task(outlets=[ORDERS])
    context, _ = _context(task)
    context["outlet_events"][Asset("other")].extra["x"] = 1
    with pytest.raises(AirflowException, match="not among the task's outlets"):
        context["outlet_events"].serialize(task.outlets)


def test_add_is_only_for_aliases():
    context, _ = _context(_task(outlets=[ORDERS]))
    with pytest.raises(AirflowException, match="is for an AssetAlias"):
        context["outlet_events"][ORDERS].add(Asset("x"))


def test_inlet_events_are_read_through_the_supervisor_once():
    context, comms = _context(_task(inlets=[ORDERS]))
    events = context["inlet_events"][ORDERS]
    assert events[0].extra == {"rows": 3} and events[0].source_dag_id == "producer"
    assert context["inlet_events"][ORDERS] is events
    assert comms.requests == [{"name": "orders", "uri": "s3://bucket/orders"}]
    with pytest.raises(KeyError, match="not among the task's inlets"):
        context["inlet_events"][Asset("other")]


def test_triggering_asset_events_by_asset_and_by_alias():
    run = {**RUN, "run_type": "asset_triggered", "consumed_asset_events": [EVENT]}
    context, _ = _context(_task(), run)
    events = context["triggering_asset_events"]
    assert [e.id for e in events[ORDERS]] == [7]
    assert [e.id for e in events[AssetAlias("daily")]] == [7]
    assert set(events) == {Asset("orders", uri="s3://bucket/orders"), AssetAlias("daily")}


def report(**context: Any):
    yield Metadata(ORDERS, {"rows": 5})
    yield Metadata(Asset("s3://bucket/day/2"), {"day": 2}, alias="daily")
    return "done"


def test_a_generator_task_yields_metadata_into_outlet_events():
    with DAG("etl", start_date=datetime(2024, 1, 1), auto_register=False):
        task = PythonOperator(task_id="t", python_callable=report, outlets=[ORDERS, ALIAS])
    context, _ = _context(task)
    assert task.execute(context) == "done"
    assert context["outlet_events"][ORDERS].extra == {"rows": 5}
    (added,) = context["outlet_events"][ALIAS].asset_alias_events
    assert (added.asset.uri, added.extra) == ("s3://bucket/day/2", {"day": 2})
    # The asset Metadata named with an alias is not a stray outlet_events key.
    assert len(context["outlet_events"].serialize(task.outlets)) == 2


def test_inlet_events_for_asset_by_name_uri_ref_index_and_alias():
    context, comms = _context(_task(inlets=[ORDERS, Asset.ref(name="users"), ALIAS]))
    inlets = context["inlet_events"]
    assert inlets.for_asset(name="orders") is inlets[ORDERS] is inlets[0]
    inlets.for_asset(uri="s3://bucket/orders")
    assert [e.id for e in inlets.for_asset(name="orders", uri="s3://bucket/orders")] == [7]
    assert [e.id for e in inlets.for_asset(name="users").ascending(False).limit(1)] == [7]
    assert [e.id for e in inlets.for_asset_alias(name="daily").after("2024-01-01")] == [7]
    assert comms.requests == [
        {"name": "orders", "uri": "s3://bucket/orders"},
        {"name": "users", "ascending": False, "limit": 1},
        {"alias_name": "daily", "after": "2024-01-01"},
    ]
    with pytest.raises(KeyError, match="not among the task's inlets"):
        inlets.for_asset(name="other")
    with pytest.raises(KeyError, match="not among the task's inlets"):
        inlets.for_asset_alias(name="weekly")
    with pytest.raises(ValueError, match="name and uri cannot both be None"):
        inlets.for_asset()
