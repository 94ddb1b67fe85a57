"""`manage.py dags delete | next-execution | state` in Airflow's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import DagModel, DagRun, DagVersion
from tests.builders import make_run

pytestmark = pytest.mark.django_db


def dags(*argv: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("dags", *argv, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_delete_removes_the_dag_after_confirmation_by_flag():
    make_run()
    with pytest.raises(CommandError, match="-y"):
        dags("delete", "etl")
    assert dags("delete", "etl", "-y")[0] == "Removed DAG etl with 1 run(s).\n"
    assert not DagModel.objects.exists()
    with pytest.raises(CommandError, match="not found"):
        dags("delete", "etl", "-y")


def test_state_by_run_id_or_logical_date_with_its_conf():
    run = make_run()
    assert dags("state", "etl", run.run_id)[0] == 'running, {"source": "test"}\n'
    DagRun.objects.filter(pk=run.pk).update(conf={})
    assert dags("state", "etl", "2024-01-01T00:00:00+00:00")[0] == "running\n"
    assert dags("state", "etl", "2030-01-01")[0] == "None\n"


def test_next_execution_prints_the_next_dates_and_warns_when_paused():
    make_run()
    dag = DagModel.objects.get()
    schedule = {"type": "cron", "expression": "0 0 * * *", "preset": "@daily"}
    DagVersion.objects.update(
        serialized={**DagVersion.objects.get().serialized, "schedule": schedule}
    )
    assert dags("next-execution", "etl")[0] == "None\n"
    dag.next_dagrun = datetime(2024, 3, 1, tzinfo=UTC)
    dag.next_dagrun_data_interval_start = dag.next_dagrun
    dag.next_dagrun_data_interval_end = dag.next_dagrun
    dag.is_paused = True
    dag.save()
    out, err = dags("next-execution", "etl", "-n", "3")
    assert out.splitlines() == [
        "2024-03-01T00:00:00+00:00",
        "2024-03-02T00:00:00+00:00",
        "2024-03-03T00:00:00+00:00",
    ]
    assert "PAUSED" in err
