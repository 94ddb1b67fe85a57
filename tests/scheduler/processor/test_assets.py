"""The DAG processor and assets: a bad asset URI is an import error naming it; stored DAGs
record their asset references and their schedule's words."""

from __future__ import annotations

import pytest

from dagruns.models import (
    DagImportError,
    DagModel,
    DagScheduleAssetReference,
    TaskOutletAssetReference,
)
from scheduler.processor.loop import DagProcessor
from tests.builders import HEADER, write

pytestmark = pytest.mark.django_db

ASSETS = HEADER + "from dagruns.sdk import Asset, AssetOrTimeSchedule\n"


def test_an_invalid_asset_uri_is_an_import_error_naming_it(dags_folder):
    path = write(
        dags_folder,
        "bad_uri.py",
        ASSETS + "with DAG('bad', schedule=[Asset('s3:///no-bucket')]) as dag:\n    pass\n",
    )
    DagProcessor(timeout=10).run_once()
    error = DagImportError.objects.get(filename=str(path))
    assert "Asset URI 's3:///no-bucket' is not a valid URI" in error.message
    assert "bucket" in error.message
    assert not DagModel.objects.filter(dag_id="bad").exists()


def test_stored_dags_record_their_asset_references(dags_folder):
    write(
        dags_folder,
        "flow.py",
        ASSETS
        + """
from dagruns.sdk.timetables.trigger import CronTriggerTimetable
A = Asset("a")
with DAG("producer", schedule=None) as producer:
    EmptyOperator(task_id="make", outlets=[A])
with DAG("consumer", schedule=[A, Asset("never-produced")]) as consumer:
    EmptyOperator(task_id="use")
with DAG("both", start_date=datetime(2024, 1, 1),
         schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 0 * * *", timezone="UTC"),
                                      assets=[A])) as both:
    EmptyOperator(task_id="use")
""",
    )
    DagProcessor(timeout=10).run_once()
    assert not DagImportError.objects.exists(), list(DagImportError.objects.values("message"))
    assert TaskOutletAssetReference.objects.get().dag_id == "producer"
    assert sorted(
        DagScheduleAssetReference.objects.filter(dag_id="consumer").values_list(
            "asset__name", flat=True
        )
    ) == ["a", "never-produced"]
    consumer = DagModel.objects.get(dag_id="consumer")
    assert (consumer.timetable_summary, consumer.timetable_description) == (
        "Asset",
        "Triggered by assets",
    )
    assert consumer.next_dagrun_create_after is None  # runs only on asset events
    both = DagModel.objects.get(dag_id="both")
    assert both.timetable_summary == "Asset or 0 0 * * *"
    assert both.next_dagrun_create_after is not None  # and on its cron schedule
