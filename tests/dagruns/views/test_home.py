"""The home page answers "is everything healthy?": process heartbeats, executor slots, pools,
import errors and recently failed runs, each linking to the details; constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dagruns.models import DagImportError, DagRun, Job, Pool
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


def _job(job_type: str, beat_ago: timedelta) -> Job:
    now = timezone.now()
    return Job.objects.create(
        job_type=job_type, hostname="box", start_date=now, latest_heartbeat=now - beat_ago
    )


def test_home_shows_each_process_by_its_heartbeat(viewer):
    _job("scheduler", timedelta(seconds=1))
    _job("triggerer", timedelta(hours=1))
    page = viewer.get("/home/")
    status = {j.job_type: j.status for j in page.context["jobs"]}
    assert status == {
        "scheduler": "healthy",
        "dag_processor": "unhealthy",
        "triggerer": "unhealthy",
        "celery_beat": "absent",  # no beat, and no Celery executor that would need one
    }
    assert 'href="/api/v2/monitor/health"' in page.content.decode()


def test_home_shows_celery_beat_alongside_the_other_processes(viewer, orch_settings):
    orch_settings.executor = "local,celery"
    page = viewer.get("/home/")
    assert {j.job_type: j.status for j in page.context["jobs"]}["celery_beat"] == "unhealthy"
    _job("celery_beat", timedelta(seconds=1))
    html = viewer.get("/home/").content.decode()
    assert '<tr data-job-type="celery_beat" data-status="healthy">' in html


def test_home_counts_slots_pools_import_errors_and_failed_runs(viewer, orch_settings):
    orch_settings.parallelism = 8
    dag = store_dag("etl")
    add_run(dag, "busy", states={"extract": "running", "transform": "queued"})
    recent = add_run(dag, "recent", state="failed")
    old = add_run(dag, "old", state="failed")
    now = timezone.now()
    DagRun.objects.filter(pk=recent.pk).update(end_date=now - timedelta(hours=1))
    DagRun.objects.filter(pk=old.pk).update(end_date=now - timedelta(days=2))
    Pool.objects.create(name="tiny", slots=1)
    DagImportError.objects.create(filename="/dags/broken.py", stack_trace="boom", timestamp=now)
    page = viewer.get("/home/")
    ctx = page.context
    assert (ctx["slots_in_use"], ctx["parallelism"], ctx["slots_open"]) == (2, 8, 6)
    pools = {p.name: (p.occupied, p.open) for p in ctx["pools"]}
    assert pools["default_pool"] == (2, "126") and pools["tiny"] == (0, "1")
    assert ctx["import_errors"] == 1 and ctx["failed_count"] == 1
    html = page.content.decode()
    assert 'href="/dags/etl/runs/recent"' in html and "/runs/old" not in html
    assert 'href="/import-errors/"' in html


def test_home_is_in_the_nav_and_needs_a_role(viewer, client, db):
    assert 'href="/home/"' in viewer.get("/").content.decode()
    assert client.get("/home/").status_code == 302  # signed out: to the login page


def test_home_costs_the_same_queries_whatever_the_runs(viewer):
    dag = store_dag("etl")
    add_run(dag, "first", state="failed")

    def queries() -> int:
        viewer.get("/home/")
        with CaptureQueriesContext(connection) as ctx:
            assert viewer.get("/home/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(15):
        add_run(dag, f"more_{i}", state="failed", states={"extract": "running"})
        Pool.objects.create(name=f"pool_{i}", slots=2)
    DagRun.objects.update(end_date=timezone.now())
    assert queries() == few
