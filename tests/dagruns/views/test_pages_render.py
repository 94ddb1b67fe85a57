"""Every page renders for a viewer, with DEBUG off, and shows what it is for."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, DagImportError
from tests.builders import add_run, now, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def etl(settings):
    settings.DEBUG = False
    dag = store_dag(
        "etl",
        {"start": ["g.a", "g.b"], "g.a": ["end"], "g.b": ["end"], "end": []},
        groups={"g": ["g.a", "g.b"]},
        tags=["team-a"],
    )
    add_run(
        dag,
        states={"start": "success", "g.a": "success", "g.b": "failed", "end": "upstream_failed"},
        state="failed",
    )
    add_run(dag, states={"start": "running"})
    return dag


def test_the_dag_list_shows_each_dag_with_its_toggle_and_last_runs(viewer, etl):
    html = viewer.get("/").content.decode()
    assert 'data-dag-id="etl"' in html
    assert "At 00:00" in html
    assert html.count('class="recent-run s-') == 2
    assert "team-a" in html


def test_the_grid_has_a_cell_per_task_and_run_oldest_left(viewer, etl):
    response = viewer.get("/dags/etl/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="cell s-') == 8  # 4 tasks x 2 runs
    assert html.count('class="cell gcell') == 2  # the group row, per run
    assert html.index("scheduled__2024-01-01") < html.index("scheduled__2024-01-02")
    assert 'data-state="upstream_failed"' in html


def test_the_graph_draws_nodes_groups_and_edges(viewer, etl):
    html = viewer.get("/dags/etl/graph").content.decode()
    assert html.count('class="node s-') == 4
    assert html.count('class="edge"') == 4
    assert 'class="tgroup' in html
    assert 'data-state="running"' in html


def test_the_gantt_has_a_bar_per_task_and_marks_the_critical_path(viewer, etl):
    run_id = "scheduled__2024-01-01T00:00:00+00:00"
    html = viewer.get("/dags/etl/gantt", {"run_id": run_id}).content.decode()
    assert html.count('class="bar s-') == 4
    assert "critical" in html
    assert "peak memory 40.0 MiB" in html


def test_the_code_tab_highlights_the_source(viewer, etl):
    html = viewer.get("/dags/etl/code").content.decode()
    assert 'class="code"' in html
    assert "DAG" in html


def test_the_runs_tab_filters_by_state(viewer, etl):
    html = viewer.get("/dags/etl/runs", {"state": "failed"}).content.decode()
    assert "scheduled__2024-01-01" in html
    assert "scheduled__2024-01-02" not in html


def test_the_task_instance_page_shows_tries_and_why_it_waits(viewer, etl):
    run_id = "scheduled__2024-01-02T00:00:00+00:00"
    html = viewer.get(f"/dags/etl/runs/{run_id}/tasks/g.a").content.decode()
    assert "waiting because upstream <code>start</code> is running" in html


def test_import_errors_and_audit_pages(viewer, etl):
    DagImportError.objects.create(
        filename="/dags/bad.py", message="SyntaxError", stack_trace="Traceback…", timestamp=now()
    )
    AuditEvent.objects.create(event="trigger", owner="uma", dag_id="etl", run_id="r1")
    assert "/dags/bad.py" in viewer.get("/import-errors/").content.decode()
    assert "1 DAG file could not be imported" in viewer.get("/").content.decode()
    html = viewer.get("/audit/").content.decode()
    assert "uma" in html and "trigger" in html


def test_the_audit_log_shows_durations_and_memory_in_human_units(viewer, etl):
    extra = {"duration": 0.074735, "peak_memory": 27590656}
    AuditEvent.objects.create(event="success", owner="runner", dag_id="etl", extra=extra)
    html = viewer.get("/audit/").content.decode()
    assert "duration 75 ms · peak_memory 26.3 MiB" in html
    assert "0.074735" in html  # the exact values stay in the tooltip


def test_the_runs_page_filters_by_a_date_range(viewer):
    from datetime import UTC, datetime

    from tests.builders import add_run, store_dag

    dag = store_dag("ranged", {"t": []})
    add_run(dag, "in_range", when=datetime(2024, 1, 5, tzinfo=UTC))
    add_run(dag, "out_of_range", when=datetime(2024, 3, 5, tzinfo=UTC))
    html = viewer.get("/dags/ranged/runs?start=2024-01-01&end=2024-01-31").content.decode()
    assert "in_range" in html and "out_of_range" not in html
