"""Event-driven scheduling for real: the DAG processor registers an asset's watcher, a real
`manage.py triggerer` (with its trigger runner child) runs the standard provider's
FileDeleteTrigger, and each file that appears is deleted and becomes one asset event and one
asset-triggered run of the consuming DAG, also after the watcher's trigger ended and was
started again, and after the triggerer itself was restarted."""

from __future__ import annotations

import pytest

from dagruns.models import AssetEvent, DagRun
from tests.e2e.test_assets_e2e import returned, run_until_consumer_finished
from tests.e2e.triggerers import start_engine_triggerer
from tests.polling import wait_until
from tests.processes import stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAG = """
from airflow.sdk import Asset, AssetWatcher
from airflow.providers.standard.triggers.file import FileDeleteTrigger

INBOX = Asset(
    "inbox",
    watchers=[AssetWatcher("inbox_file", FileDeleteTrigger(filepath={path!r}, poke_interval=0.1))],
)

with DAG("on_inbox", schedule=[INBOX], start_date=START, is_paused_upon_creation=False):
    @task
    def use(**context):
        (event,) = context["triggering_asset_events"][INBOX]
        return [event.extra, event.source_dag_id]

    use()
"""


def test_each_file_a_watcher_sees_is_one_run_also_across_a_triggerer_restart(
    engine, live_server, orch_settings, tmp_path
):
    inbox = tmp_path / "inbox.csv"
    engine.add("watched.py", DAG.format(path=str(inbox)))
    engine.parse()
    triggerer = start_engine_triggerer(engine, live_server, orch_settings)
    try:
        for count in (1, 2):  # the second file: the trigger ended after the first, and restarted
            inbox.write_text("rows\n")
            wait_until(lambda: not inbox.exists(), "the watcher deleted the file", timeout=60)
            runs = run_until_consumer_finished(engine, "on_inbox", count=count)
            assert len(runs) == count
        stop(triggerer)
        triggerer = start_engine_triggerer(engine, live_server, orch_settings)
        inbox.write_text("rows\n")
        wait_until(lambda: not inbox.exists(), "the new triggerer's watcher", timeout=60)
        runs = run_until_consumer_finished(engine, "on_inbox", count=3)
        assert triggerer.poll() is None, "the triggerer died"
    finally:
        stop(triggerer)
    assert len(runs) == 3 and AssetEvent.objects.count() == 3
    for run in runs:
        assert run.state == "success" and run.triggered_by == "asset"
        # Airflow's extra for a watcher's event, and no source task.
        assert returned(run, "use") == [{"from_trigger": True, "payload": True}, None]
        assert run.consumed_asset_events.count() == 1
    assert DagRun.objects.filter(dag_id="on_inbox").count() == 3
