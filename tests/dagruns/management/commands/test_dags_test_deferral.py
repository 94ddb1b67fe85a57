"""`dags test` runs a deferrable task to its end without a separate triggerer, as Airflow's
does: a triggerer starts inside the command once a task defers."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dagruns.models import DagRun, Job, TaskInstance
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db(transaction=True)

DAG_FILE = """
from datetime import datetime, timedelta
from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import DAG, BaseOperator


class Naps(BaseOperator):
    def execute(self, context):
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=0.5)), method_name="woke")

    def woke(self, context, event=None):
        print("WOKE", event.year)


with DAG("naps", schedule=None, start_date=datetime(2024, 1, 1)):
    Naps(task_id="nap")
"""


def test_dags_test_resumes_a_deferred_task_in_process(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    write(dags_folder, "naps.py", DAG_FILE)
    DagProcessor().run_once()
    out = StringIO()
    call_command("dags", "test", "naps", "--timeout", "300", stdout=out)
    assert "finished: success" in out.getvalue()
    assert "WOKE" in out.getvalue()
    ti = TaskInstance.objects.get(dag_run=DagRun.objects.get(dag_id="naps"))
    assert (ti.state, ti.try_number) == ("success", 1)
    [job] = Job.objects.filter(job_type="triggerer")
    assert job.state == "success"  # stopped with the command
