"""Data-aware scheduling for real: a producing task's success (runner → Execution API) emits
asset events; the scheduler creates the consumers' asset_triggered runs, whose tasks see the
events that triggered them. Final states and run types as Airflow 3 gives them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dagruns.domain.logs import ti_log_path
from dagruns.models import AssetEvent, DagRun, XCom
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.scheduling.asset_runs import create_asset_triggered_runs

pytestmark = pytest.mark.django_db(transaction=True)

# Indented like the bodies below, which Engine.add dedents.
ASSETS_HEADER = "        from dagruns.sdk import Asset, AssetAlias, Metadata\n"


def returned(run, task_id):
    return XCom.objects.get(dag_run=run, task_id=task_id, key="return_value").value


def consumer_runs(dag_id):
    return DagRun.objects.filter(dag_id=dag_id, run_type="asset_triggered")


def run_until_consumer_finished(engine, dag_id, count=1):
    def done(_report) -> bool:
        runs = consumer_runs(dag_id)
        return runs.count() >= count and all(r.state in DAGRUN_FINISHED for r in runs)

    assert engine.scheduler().run_until(done, timeout=90), engine.describe(
        list(DagRun.objects.values_list("pk", flat=True))
    )
    return consumer_runs(dag_id).order_by("run_after")


def test_a_producer_triggers_its_consumer_with_the_event(engine):
    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        ORDERS = Asset("orders", uri="s3://bucket/orders")

        with DAG("producer", schedule=None, start_date=START):
            @task(outlets=[ORDERS])
            def make(**context):
                context["outlet_events"][ORDERS].extra["rows"] = 3

            make()

        with DAG("consumer", schedule=[ORDERS], start_date=START):
            @task(inlets=[ORDERS])
            def use(**context):
                (event,) = context["triggering_asset_events"][ORDERS]
                latest = context["inlet_events"][ORDERS][-1]
                return [event.extra, event.source_dag_id, event.source_task_id,
                        latest.extra, context["dag_run"].run_type,
                        context.get("logical_date")]

            use()
        """,
    )
    engine.parse()
    producer = engine.run_dag("producer")
    assert engine.states(producer) == {"make": "success"}
    (run,) = run_until_consumer_finished(engine, "consumer")
    assert run.state == "success" and run.triggered_by == "asset"
    assert returned(run, "use") == [
        {"rows": 3},
        "producer",
        "make",
        {"rows": 3},
        "asset_triggered",
        None,
    ]
    assert list(run.consumed_asset_events.values_list("source_run_id", flat=True)) == [
        producer.run_id
    ]


def test_all_of_waits_for_both_and_any_of_runs_on_either(engine):
    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        A, B = Asset("a"), Asset("b")

        for name, asset in (("make_a", A), ("make_b", B)):
            with DAG(name, schedule=None, start_date=START):
                EmptyOperator(task_id="make", outlets=[asset])

        with DAG("both", schedule=A & B, start_date=START):
            @task
            def use(**context):
                return sorted(a.name for a in context["triggering_asset_events"])
            use()

        with DAG("either", schedule=A | B, start_date=START):
            EmptyOperator(task_id="use")
        """,
    )
    engine.parse()
    engine.run_dag("make_a")
    (either,) = run_until_consumer_finished(engine, "either")
    assert either.state == "success"
    # The event of A is committed and queued: `both` still waits for B.
    assert create_asset_triggered_runs(either.run_after) == 0
    assert not consumer_runs("both").exists()

    engine.run_dag("make_b")
    (both,) = run_until_consumer_finished(engine, "both")
    assert both.state == "success"
    assert returned(both, "use") == ["a", "b"]
    assert len(run_until_consumer_finished(engine, "either", count=2)) == 2


def test_an_alias_resolves_at_run_time_and_metadata_sets_extras(engine):
    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        ALIAS = AssetAlias("daily-export")

        with DAG("exporter", schedule=None, start_date=START):
            @task(outlets=[ALIAS])
            def export(**context):
                yield Metadata(Asset("s3://bucket/export/1"), {"part": 1}, alias=ALIAS)
                return "exported"

            export()

        with DAG("reader", schedule=[ALIAS], start_date=START):
            @task
            def read(**context):
                events = context["triggering_asset_events"][ALIAS]
                return [(e.asset.uri, e.extra) for e in events]

            read()
        """,
    )
    engine.parse()
    exporter = engine.run_dag("exporter")
    assert engine.states(exporter) == {"export": "success"}
    assert returned(exporter, "export") == "exported"
    (run,) = run_until_consumer_finished(engine, "reader")
    assert run.state == "success"
    assert returned(run, "read") == [["s3://bucket/export/1", {"part": 1}]]


def test_a_failed_producer_emits_nothing(engine):
    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        with DAG("broken", schedule=None, start_date=START):
            BashOperator(task_id="make", bash_command="exit 1", outlets=[Asset("x")])
        """,
    )
    engine.parse()
    run = engine.run_dag("broken")
    assert engine.states(run) == {"make": "failed"}
    assert not AssetEvent.objects.exists()


def test_the_asset_decorator_produces_its_asset(engine):
    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        from dagruns.sdk import asset

        @asset(schedule=None, uri="s3://bucket/report")
        def report(self, context):
            context["outlet_events"][self].extra["by"] = self.name
            return self.uri

        with DAG("after_report", schedule=[report], start_date=START):
            EmptyOperator(task_id="use")
        """,
    )
    engine.parse()
    run = engine.run_dag("report")
    assert engine.states(run) == {"report": "success"}
    assert returned(run, "report") == "s3://bucket/report"
    assert AssetEvent.objects.get().extra == {"by": "report"}
    (consumer,) = run_until_consumer_finished(engine, "after_report")
    assert consumer.state == "success"


def test_an_event_posted_to_the_rest_api_triggers_the_consumer(engine, live_server):
    import json
    import urllib.request

    from dagruns.api.rest.auth import issue_token
    from dagruns.models import AssetModel
    from tests.personas import persona

    engine.add(
        "flow.py",
        ASSETS_HEADER
        + """
        with DAG("on_upload", schedule=[Asset("s3://bucket/upload")], start_date=START):
            @task
            def use(**context):
                (event,) = context["triggering_asset_events"][Asset("s3://bucket/upload")]
                return event.extra
            use()
        """,
    )
    engine.parse()
    asset = AssetModel.objects.get(uri="s3://bucket/upload")
    request = urllib.request.Request(
        f"{live_server.url}/api/v2/assets/events",
        data=json.dumps({"asset_id": asset.pk, "extra": {"file": "a.csv"}}).encode(),
        headers={
            "Authorization": f"Bearer {issue_token(persona('user'))}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    (run,) = run_until_consumer_finished(engine, "on_upload")
    assert run.state == "success"
    assert returned(run, "use") == {"file": "a.csv", "from_rest_api": True}


def test_refs_multi_asset_functions_and_for_asset_end_to_end(engine):
    engine.add(
        "flow.py",
        """
        from airflow.sdk import Asset, asset

        @asset.multi(outlets=[Asset("left"), Asset("s3://bucket/right")], schedule=None)
        def split(context):
            context["outlet_events"][Asset("left")].extra["side"] = "left"
            return "split"

        # By reference: one to an asset another DAG defines, one to an asset nobody has yet.
        with DAG("by_ref", schedule=Asset.ref(name="left") & Asset.ref(uri="s3://bucket/right"),
                 start_date=START):
            @task(inlets=[Asset.ref(name="left"), Asset("s3://bucket/right")])
            def read(**context):
                inlets = context["inlet_events"]
                left = inlets.for_asset(name="left")
                right = inlets.for_asset(uri="s3://bucket/right")
                newest = inlets[0].ascending(False).limit(1)
                return [len(left), left[-1].source_dag_id, left[-1].extra, right[-1].asset.name,
                        len(newest), newest[0].id == left[-1].id]
            read()

        # An @asset function's other parameters are its inlets, read by name (Airflow's rule).
        @asset(schedule=[Asset("left")])
        def combined(self, context, left):
            return [self.name, left.name, left.uri, len(context["inlet_events"][left])]

        with DAG("on_later", schedule=[Asset.ref(name="later")], start_date=START):
            EmptyOperator(task_id="use")

        with DAG("ref_producer", schedule=None, start_date=START):
            EmptyOperator(task_id="emit",
                          outlets=[Asset.ref(name="left"), Asset.ref(name="nowhere")])

        with DAG("later_producer", schedule=None, start_date=START):
            EmptyOperator(task_id="emit", outlets=[Asset("later")])
        """,
    )
    engine.parse()
    split = engine.run_dag("split")
    assert engine.states(split) == {"split": "success"} and returned(split, "split") == "split"
    (run,) = run_until_consumer_finished(engine, "by_ref")
    assert run.state == "success"
    assert returned(run, "read") == [1, "split", {"side": "left"}, "s3://bucket/right", 1, True]
    (combined,) = run_until_consumer_finished(engine, "combined")
    assert returned(combined, "combined") == ["combined", "left", "left", 1]

    # A ref outlet emits for the asset it names; one naming no asset warns, as Airflow.
    producer = engine.run_dag("ref_producer")
    assert engine.states(producer) == {"emit": "success"}
    assert list(
        AssetEvent.objects.filter(source_dag_id="ref_producer").values_list(
            "asset__name", flat=True
        )
    ) == ["left"]
    log = ti_log_path(engine.ti(producer, "emit")).read_text()
    assert 'Task has inactive assets "Asset.ref(name=nowhere)" in inlets or outlets' in log
    # `by_ref` needs both assets again: only `left` has a new event, so it waits. (`combined`,
    # scheduled on `left` alone, may get its run here or in the engine's earlier ticks,
    # depending on the executor's timing: only by_ref's count is the point.)
    create_asset_triggered_runs(timezone.now())
    assert len(consumer_runs("by_ref")) == 1
    # A schedule on a ref to no asset waits, and runs once the asset exists and changes.
    assert not consumer_runs("on_later").exists()
    engine.run_dag("later_producer")
    (later,) = run_until_consumer_finished(engine, "on_later")
    assert later.state == "success"
    assert len(consumer_runs("by_ref")) == 1
