"""A run's DAG-callback log is reachable from the runs page and shows the callbacks' output and
outcome; a run without callbacks has no link."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.models import DagCallbackRequest
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_run(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    dag = store_dag("etl")
    run = add_run(dag, states={"extract": "failed"}, state="failed")
    DagCallbackRequest.objects.create(
        dag_run=run,
        dag_id="etl",
        run_id=run.run_id,
        fileloc="/dags/etl.py",
        is_failure=True,
        reason="task_failure",
        created_at=timezone.now(),
        started_at=timezone.now(),
        finished_at=timezone.now(),
        outcome="failed",
        error="on_failure_callback raised an exception (see the traceback above)",
    )
    path = callback_log_path("etl", run.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("RuntimeError: <b>boom</b>\n")
    add_run(dag, states={"extract": "success"}, state="success")
    return run


def test_the_runs_page_links_a_run_to_its_callback_log(viewer, failed_run):
    html = viewer.get("/dags/etl/runs").content.decode()
    assert html.count('data-action="callback-log"') == 1
    response = viewer.get(html.split('data-action="callback-log"')[0].rsplit('href="', 1)[1][:-2])
    assert response.status_code == 200 and "RuntimeError" in response.content.decode()


def test_the_callback_log_shows_outcome_and_output_as_plain_text(viewer, failed_run):
    response = viewer.get(f"/dags/etl/runs/{failed_run.run_id}/callback-log")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "on_failure_callback (reason: task_failure): failed - on_failure_callback raised" in body
    assert "RuntimeError: <b>boom</b>" in body


def test_a_stranger_may_not_read_a_callback_log(stranger, failed_run):
    assert viewer_status(stranger, failed_run) == 403


def viewer_status(client, run) -> int:
    return client.get(f"/dags/etl/runs/{run.run_id}/callback-log").status_code


def test_a_tasks_callback_request_is_named_by_its_task(viewer, failed_run):
    # A task its trigger failed: its on_failure_callback runs in the DAG processor too.
    DagCallbackRequest.objects.create(
        dag_run=failed_run,
        dag_id="etl",
        run_id=failed_run.run_id,
        fileloc="/dags/etl.py",
        is_failure=True,
        reason="task_failure",
        created_at=timezone.now(),
        task_id="extract",
        try_number=1,
    )
    body = viewer.get(f"/dags/etl/runs/{failed_run.run_id}/callback-log").content.decode()
    assert (
        "task extract's on_failure_callback (reason: task_failure): waiting for the DAG processor"
        in body
    )
