"""An ObjectStoragePath one task returns reaches the next task as a path (real task processes,
through `dags test`), as in Airflow's object storage tutorial."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dagruns.models import TaskInstance
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAG_FILE = """
from datetime import datetime
from airflow.sdk import ObjectStoragePath, dag, task

BASE = ObjectStoragePath("file://{folder}/", conn_id="local_fs")

@dag(schedule=None, start_date=datetime(2024, 1, 1))
def storage():
    @task
    def produce() -> ObjectStoragePath:
        path = BASE / "out" / "data.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("rows: 3")
        return path

    @task
    def consume(path: ObjectStoragePath):
        assert isinstance(path, ObjectStoragePath), type(path)
        print("read", path.conn_id, path.read_text())

    consume(produce())

storage()
"""


def test_a_returned_path_is_a_path_in_the_downstream_task(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    write(dags_folder, "storage.py", DAG_FILE.format(folder=tmp_path / "store"))
    DagProcessor().run_once()
    out = StringIO()
    call_command("dags", "test", "storage", stdout=out)
    assert "read local_fs rows: 3" in out.getvalue()
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {"success"}
