"""The run page: everything about one DAG run, its note edited in place, its clear (all or
only failed, listed before confirming) and mark actions, and a constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dagruns.models import AuditEvent, DagRun, TaskInstance
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db
CHAIN = {"extract": ["transform"], "transform": ["load"], "load": []}


@pytest.fixture
def etl():
    return store_dag("etl", CHAIN)


@pytest.fixture
def failed_run(etl):
    run = add_run(
        etl,
        "manual__1",
        states={"extract": "success", "transform": "failed", "load": "upstream_failed"},
        state="failed",
        run_type="manual",
        conf={"n": 2, "who": "ada"},
    )
    DagRun.objects.filter(pk=run.pk).update(
        triggered_by="ui", triggering_user_name="uma", note="looked at"
    )
    return run


def test_the_run_page_shows_the_run(viewer, failed_run):
    page = viewer.get("/dags/etl/runs/manual__1")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="failed"' in html and "manual" in html
    assert 'data-field="triggering_user_name">uma<' in html and "ui" in html
    assert "&quot;n&quot;: 2" in html and "looked at" in html
    assert page.context["counts"] == [("failed", 1), ("success", 1), ("upstream_failed", 1)]
    assert page.context["duration_text"] == "5 min 00 s"
    assert page.context["ws_url"] == "/ws/dags/etl/?view=run&run_id=manual__1"
    # A viewer sees no action and cannot change the note.
    assert "data-action=" not in html and "<textarea" not in html


def test_an_unknown_run_is_a_404(viewer, etl):
    assert viewer.get("/dags/etl/runs/nope").status_code == 404


def test_the_run_is_linked_from_the_grid_the_runs_list_and_a_task_instance(viewer, failed_run):
    for path in ("/dags/etl/", "/dags/etl/runs", "/dags/etl/runs/manual__1/tasks/extract"):
        assert 'href="/dags/etl/runs/manual__1"' in viewer.get(path).content.decode(), path


def test_the_live_region_alone_is_rendered_for_htmx(viewer, failed_run):
    part = viewer.get(
        "/dags/etl/runs/manual__1", headers={"HX-Request": "true", "HX-Target": "run-details"}
    )
    html = part.content.decode()
    assert 'id="run-details"' in html
    assert "<html" not in html and 'data-live-run-id="manual__1"' in html


def test_a_user_edits_the_note_in_place(user, viewer, failed_run):
    done = user.post(
        "/dags/etl/runs/manual__1/note", {"note": "fixed"}, headers={"HX-Request": "true"}
    )
    assert done.status_code == 200 and 'id="run-note"' in done.content.decode()
    assert DagRun.objects.get().note == "fixed"
    assert AuditEvent.objects.filter(event="set_dag_run_note", run_id="manual__1").exists()
    too_long = user.post("/dags/etl/runs/manual__1/note", {"note": "x" * 1001})
    assert "at most 1000 characters" in too_long.content.decode()
    assert 'id="run-details"' in too_long.content.decode()  # the whole page, not a fragment
    assert DagRun.objects.get().note == "fixed"
    assert viewer.post("/dags/etl/runs/manual__1/note", {"note": "no"}).status_code == 403


def test_clear_run_lists_only_failed_then_clears_them(user, failed_run):
    listing = user.get("/dags/etl/clear-run", {"run_id": "manual__1"})
    assert sorted(i["task_id"] for i in listing.context["items"]) == [
        "extract",
        "load",
        "transform",
    ]
    only_failed = {"run_id": "manual__1", "options": "1", "only_failed": "1"}
    listing = user.get("/dags/etl/clear-run", only_failed)
    assert sorted(i["task_id"] for i in listing.context["items"]) == ["load", "transform"]
    user.post("/dags/etl/clear-run", {**only_failed, "confirm": "1"})
    states = dict(TaskInstance.objects.values_list("task_id", "state"))
    assert states == {"extract": "success", "transform": None, "load": None}
    run = DagRun.objects.get()
    assert run.state == "running" and run.start_date > failed_run.start_date


def test_clear_run_needs_the_user_role(viewer, failed_run):
    assert viewer.get("/dags/etl/clear-run", {"run_id": "manual__1"}).status_code == 403


def test_the_run_page_buttons_open_the_run_actions(user, failed_run):
    html = user.get("/dags/etl/runs/manual__1").content.decode()
    for action in ("clear-run", "run-success", "run-failed"):
        assert f'data-action="{action}"' in html


def test_the_run_page_costs_the_same_queries_whatever_the_tasks(viewer, etl):
    small = add_run(etl, "small", states={"extract": "success"})
    big_dag = store_dag("big", {f"t{i}": [] for i in range(60)})
    big = add_run(big_dag, "big", states={f"t{i}": "success" for i in range(30)})
    DagRun.objects.filter(pk=big.pk).update(end_date=big.start_date + timedelta(hours=1))

    def queries(path: str) -> int:
        viewer.get(path)
        with CaptureQueriesContext(connection) as ctx:
            assert viewer.get(path).status_code == 200
        return len(ctx.captured_queries)

    assert queries(f"/dags/etl/runs/{small.run_id}") == queries(f"/dags/big/runs/{big.run_id}")


def test_the_gantt_and_the_audit_log_link_the_run(viewer, user, failed_run):
    user.post("/dags/etl/runs/manual__1/note", {"note": "seen"})
    for path in ("/dags/etl/gantt?run_id=manual__1", "/audit/"):
        assert 'href="/dags/etl/runs/manual__1"' in viewer.get(path).content.decode(), path


def test_the_runs_list_names_who_triggered_each_run(viewer, failed_run):
    assert "ui · uma" in viewer.get("/dags/etl/runs").content.decode()


def test_a_generated_run_id_with_a_plus_and_colons_has_a_working_page(user, etl):
    run = add_run(etl, "manual__2024-01-01T00:00:00+00:00", states={"extract": "failed"})
    page = user.get("/dags/etl/runs/manual__2024-01-01T00:00:00+00:00")
    assert page.status_code == 200 and page.context["run"].pk == run.pk
    html = page.content.decode()
    assert 'action="/dags/etl/runs/manual__2024-01-01T00:00:00+00:00/note"' in html
    user.post("/dags/etl/runs/manual__2024-01-01T00:00:00+00:00/note", {"note": "plus"})
    assert DagRun.objects.get(pk=run.pk).note == "plus"
