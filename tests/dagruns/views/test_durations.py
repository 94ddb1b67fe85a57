"""The Durations tab: run durations over the last N runs (queued under running, coloured and
marked by state) and one task's durations across those runs, in human units, at a constant
number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from dagruns.models import DagRun, TaskInstance
from tests.builders import add_run, store_dag
from tests.dagruns.views.query_count import queries_of

pytestmark = pytest.mark.django_db

CAP = 14  # session, user, role groups, the page's own handful (as test_query_counts.py)
T = datetime(2024, 5, 1, tzinfo=UTC)


def _timed(dag, run_id: str, state: str, queued_s: int, running_s: int, day: int):
    when = T + timedelta(days=day)
    run = add_run(dag, run_id, state=state, when=when, states={"extract": state})
    DagRun.objects.filter(pk=run.pk).update(
        queued_at=when,
        start_date=when + timedelta(seconds=queued_s),
        end_date=when + timedelta(seconds=queued_s + running_s),
    )
    return run


def _bars(body: str, chart: str) -> list[str]:
    part = body.split(f'data-chart="{chart}"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r'<a class="chart-bar s-(\w+)" href="([^"]+)" data-run-id="([^"]+)"', part)


def test_runs_are_drawn_oldest_first_with_queued_and_running_parts(viewer):
    dag = store_dag("dur")
    _timed(dag, "r1", "success", 30, 90, day=0)
    _timed(dag, "r2", "failed", 5, 3 * 3600, day=1)
    _timed(dag, "r3", "success", 0, 40, day=2)
    response = viewer.get("/dags/dur/durations?runs=2")
    body = response.content.decode()
    assert response.status_code == 200
    # The last two runs, oldest on the left, each a link to its run page.
    assert [(s, r) for s, _url, r in _bars(body, "runs")] == [("failed", "r2"), ("success", "r3")]
    assert "/dags/dur/runs/r2" in body
    # Human units in the tooltip and the axis; the state as a glyph, not colour alone.
    assert "Queued: 5.0 s\nRunning: 3 h 00 min\nTotal: 3 h 00 min" in body
    assert 'class="chart-glyph"' in body and ">✕</text>" in body
    assert '<rect class="chart-queued"' in body and '<rect class="chart-running"' in body
    assert "last 2 runs" in body
    assert '<a href="/dags/dur/durations" aria-current="page">Durations</a>' in body


def test_a_tasks_durations_across_runs_and_every_tasks_summary(viewer):
    dag = store_dag("dur")
    for i in range(3):
        run = _timed(dag, f"r{i}", "success", 1, 10, day=i)
        TaskInstance.objects.filter(dag_run=run, task_id="extract").update(
            state="success",
            queued_dttm=run.run_after,
            start_date=run.run_after + timedelta(seconds=2),
            end_date=run.run_after + timedelta(seconds=2 + 60 * (i + 1)),
        )
    body = viewer.get("/dags/dur/durations").content.decode()
    # The first task is charted by default, a bar per run linking to its task instance.
    bars = _bars(body, "task")
    assert [r for _s, _u, r in bars] == ["r0", "r1", "r2"]
    assert bars[0][1] == "/dags/dur/runs/r0/tasks/extract"
    row = body.split('<tr data-task-id="extract"', 1)[1].split("</tr>", 1)[0]
    assert "2 min 00 s" in row  # the mean of 1, 2 and 3 minutes
    assert "3 min 00 s" in row  # the longest and the last
    other = viewer.get("/dags/dur/durations?task_id=load").content.decode()
    assert [s for s, _u, _r in _bars(other, "task")] == ["none"] * 3  # never ran: no bar
    assert '<span class="mono">load</span>' in other


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("runs=0", "runs: 0 is out of range (1 to 100)"),
        ("runs=x", "runs: &#x27;x&#x27; is not a whole number"),
        ("task_id=nope", "task_id: DAG dur has no task &#x27;nope&#x27;"),
    ],
)
def test_bad_parameters_are_refused_naming_them(viewer, query, message):
    store_dag("dur")
    response = viewer.get(f"/dags/dur/durations?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_durations_tab_does_not_grow_with_tasks_or_runs(viewer, django_assert_max_num_queries):
    small = store_dag("few", {"a": []})
    large = store_dag("many", {f"t{i}": [] for i in range(60)})
    add_run(small, state="success", states={"a": "success"})
    for _ in range(30):
        add_run(large, state="success", states={f"t{i}": "success" for i in range(60)})
    assert queries_of(viewer, "/dags/few/durations") == queries_of(viewer, "/dags/many/durations")
    with django_assert_max_num_queries(CAP):
        viewer.get("/dags/many/durations?runs=100")


def test_a_mapped_tasks_instances_are_one_span_per_run(viewer):
    dag = store_dag("dur")
    run = add_run(dag, "r1", state="success", when=T)
    TaskInstance.objects.filter(dag_run=run, task_id="load").delete()
    for index, seconds in enumerate((30, 90)):
        TaskInstance.objects.create(
            dag_run=run,
            dag_version=run.dag_version,
            dag_id="dur",
            run_id="r1",
            task_id="load",
            map_index=index,
            state="success",
            try_number=1,
            start_date=T,
            end_date=T + timedelta(seconds=seconds),
        )
    body = viewer.get("/dags/dur/durations?task_id=load").content.decode()
    assert [(s, r) for s, _u, r in _bars(body, "task")] == [("success", "r1")]
    assert "load (2 mapped) · r1" in body and "Running: 1 min 30 s" in body
