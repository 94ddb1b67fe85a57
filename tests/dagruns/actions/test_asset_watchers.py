"""Asset watchers (dagruns/actions/asset_watchers.py), driven by the real DAG processor: an
asset is watched while an active, unpaused DAG is scheduled on it; the watcher's trigger is a
stored Trigger (shared by identical watchers) that firing keeps, and whose events become
asset events queued for the consumers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dagruns.actions.asset_watchers import do_sync_asset_watchers
from dagruns.actions.audit import Actor
from dagruns.actions.dags import do_set_paused
from dagruns.actions.deferral import delete_unused_triggers, do_fire_trigger
from dagruns.models import (
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    AssetWatcherModel,
    DagImportError,
    Trigger,
)
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db

ADMIN = Actor(name="admin")

WATCHED = """
from datetime import datetime
from airflow.sdk import DAG, Asset, AssetWatcher
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.triggers.file import FileDeleteTrigger

INBOX = Asset("inbox", watchers=[AssetWatcher("inbox_file", FileDeleteTrigger("/in/a.csv"))])
# Another asset watched by the very same trigger: one stored trigger serves both.
MIRROR = Asset("mirror", watchers=[AssetWatcher("mirror_file", FileDeleteTrigger("/in/a.csv"))])
with DAG("on_inbox", schedule=[INBOX, MIRROR], is_paused_upon_creation=False):
    EmptyOperator(task_id="use")
"""


def _parse():
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists(), list(DagImportError.objects.values("message"))


def _watchers():
    return sorted(
        AssetWatcherModel.objects.values_list("asset__name", "name", "trigger__classpath")
    )


def test_the_processor_registers_watchers_of_scheduled_assets_sharing_one_trigger(dags_folder):
    write(dags_folder, "watched.py", WATCHED)
    _parse()
    classpath = "airflow.providers.standard.triggers.file.FileDeleteTrigger"
    assert _watchers() == [("inbox", "inbox_file", classpath), ("mirror", "mirror_file", classpath)]
    (trigger,) = Trigger.objects.all()
    assert trigger.kwargs == {"filepath": "/in/a.csv", "poke_interval": 5.0}
    # Parsing again changes nothing; cleaning unused triggers keeps a watcher's.
    _parse()
    delete_unused_triggers()
    assert Trigger.objects.get().pk == trigger.pk and len(_watchers()) == 2


def test_pausing_or_removing_the_consumer_removes_the_watchers_and_their_trigger(dags_folder):
    path = write(dags_folder, "watched.py", WATCHED)
    _parse()
    do_set_paused("on_inbox", True, ADMIN)
    assert _watchers() == [] and not Trigger.objects.exists()
    do_set_paused("on_inbox", False, ADMIN)
    assert len(_watchers()) == 2 and Trigger.objects.count() == 1
    path.unlink()
    _parse()
    assert _watchers() == [] and not Trigger.objects.exists()


def test_a_changed_watcher_replaces_the_old_trigger(dags_folder):
    path = write(dags_folder, "watched.py", WATCHED)
    _parse()
    path.write_text(WATCHED.replace('"/in/a.csv"', '"/in/b.csv"', 1))
    _parse()
    kwargs = sorted(t.kwargs["filepath"] for t in Trigger.objects.all())
    assert kwargs == ["/in/a.csv", "/in/b.csv"]
    assert AssetWatcherModel.objects.get(asset__name="inbox").trigger.kwargs["filepath"] == (
        "/in/b.csv"
    )


def test_a_watcher_event_is_an_event_of_each_watched_asset_and_keeps_the_trigger(dags_folder):
    write(dags_folder, "watched.py", WATCHED)
    _parse()
    trigger = Trigger.objects.get()
    assert do_fire_trigger(trigger.pk, True, now=timezone.now()) == 2
    events = AssetEvent.objects.order_by("asset__name")
    assert [(e.asset.name, e.extra, e.source_dag_id, e.source_watcher_name) for e in events] == [
        ("inbox", {"from_trigger": True, "payload": True}, "", "inbox_file"),
        ("mirror", {"from_trigger": True, "payload": True}, "", "mirror_file"),
    ]
    assert sorted(AssetDagRunQueue.objects.values_list("asset__name", "target_dag_id")) == [
        ("inbox", "on_inbox"),
        ("mirror", "on_inbox"),
    ]
    assert Trigger.objects.filter(pk=trigger.pk).exists()


def test_an_asset_nobody_schedules_is_not_watched(dags_folder):
    write(
        dags_folder,
        "producer_only.py",
        WATCHED.replace("schedule=[INBOX, MIRROR]", "schedule=None").replace(
            'EmptyOperator(task_id="use")', 'EmptyOperator(task_id="use", outlets=[INBOX])'
        ),
    )
    _parse()
    assert do_sync_asset_watchers(AssetModel.objects.values_list("pk", flat=True)) == 0
    assert _watchers() == [] and not Trigger.objects.exists()


def test_a_watcher_whose_trigger_is_not_an_event_trigger_is_an_import_error(dags_folder):
    path = write(
        dags_folder,
        "bad_watcher.py",
        WATCHED.replace("FileDeleteTrigger(", "FileTrigger(").replace(
            "import FileDeleteTrigger", "import FileTrigger"
        ),
    )
    DagProcessor(timeout=30).run_once()
    error = DagImportError.objects.get(filename=str(path))
    assert (
        "AssetWatcher 'inbox_file': the trigger used to watch an asset must inherit "
        "BaseEventTrigger; dagruns.sdk.triggers.file.FileTrigger does not" in error.message
    )
    assert not Trigger.objects.exists()
