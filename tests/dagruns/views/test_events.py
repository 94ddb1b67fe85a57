"""A DAG's Events tab (and the global audit log): one DAG's events, newest first, narrowed to
a run or task, filtered by event, who and date, paginated, with the task runner's events left
out unless asked for — at a constant number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from dagruns.actions.audit import Actor, record
from dagruns.actions.tries import RUNNER_ACTOR
from dagruns.models import AuditEvent
from dagruns.ui.event_log import PAGE_SIZE
from tests.builders import add_run, store_dag
from tests.dagruns.views.query_count import queries_of

pytestmark = pytest.mark.django_db

CAP = 14  # session, user, role groups, the page's own handful (as test_query_counts.py)
T = datetime(2024, 6, 1, 12, tzinfo=UTC)


def _event(event: str, *, owner: str = "uma", dag_id: str = "etl", when=T, **fields) -> None:
    row = record(Actor(name=owner), event, dag_id=dag_id, **fields)
    AuditEvent.objects.filter(pk=row.pk).update(when=when)


def _rows(body: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-event="([^"]+)" data-owner="([^"]+)"', body)


@pytest.fixture
def log(db):
    store_dag("etl")
    store_dag("other")
    _event("trigger", run_id="r1", when=T)
    _event(
        "running",
        owner=RUNNER_ACTOR.name,
        run_id="r1",
        task_id="extract",
        when=T + timedelta(minutes=1),
    )
    _event("clear", owner="ops", run_id="r1", task_id="extract", when=T + timedelta(days=1))
    _event("paused", owner="ops", when=T + timedelta(days=2))
    _event("trigger", dag_id="other", when=T + timedelta(days=3))


def test_a_dags_events_newest_first_without_the_task_runners(viewer, log):
    body = viewer.get("/dags/etl/events").content.decode()
    assert _rows(body) == [("paused", "ops"), ("clear", "ops"), ("trigger", "uma")]
    assert "task runner events are hidden" not in body  # rows were found
    assert '<a href="/dags/etl/events" aria-current="page">Events</a>' in body
    assert 'href="/dags/etl/runs/r1/tasks/extract"' in body
    with_runner = viewer.get("/dags/etl/events?runner=1").content.decode()
    assert ("running", RUNNER_ACTOR.name) in _rows(with_runner)
    assert 'name="runner" value="1" checked' in with_runner


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("run_id=r1", [("clear", "ops"), ("trigger", "uma")]),
        ("run_id=r1&task_id=extract&runner=1", [("clear", "ops"), ("running", "task_runner")]),
        ("event=trigger", [("trigger", "uma")]),
        ("owner=OP", [("paused", "ops"), ("clear", "ops")]),
        ("after=2024-06-02&before=2024-06-02", [("clear", "ops")]),
        ("after=2024-06-03", [("paused", "ops")]),
        ("dag_id=etl", [("paused", "ops"), ("clear", "ops"), ("trigger", "uma")]),
    ],
)
def test_filters_narrow_the_dags_events(viewer, log, query, expected):
    assert _rows(viewer.get(f"/dags/etl/events?{query}").content.decode()) == expected


def test_the_run_and_task_pages_link_their_events(viewer):
    dag = store_dag("etl")
    add_run(dag, "r1", states={"extract": "success"})
    run_page = viewer.get("/dags/etl/runs/r1").content.decode()
    assert 'href="/dags/etl/events?run_id=r1"' in run_page
    ti_page = viewer.get("/dags/etl/runs/r1/tasks/extract").content.decode()
    assert 'href="/dags/etl/events?run_id=r1&amp;task_id=extract"' in ti_page


def test_the_global_audit_log_hides_task_runner_events_too(viewer, log):
    body = viewer.get("/audit/").content.decode()
    assert ("running", RUNNER_ACTOR.name) not in _rows(body)
    assert ("trigger", "uma") in _rows(body) and len(_rows(body)) == 4
    assert len(_rows(viewer.get("/audit/?runner=1").content.decode())) == 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=2024-13-01", "after: &#x27;2024-13-01&#x27; is not a date (YYYY-MM-DD)"),
        ("after=2024-06-05&before=2024-06-01", "after (2024-06-05) is later than before"),
        ("runner=yes", "runner: &#x27;yes&#x27; must be 1"),
    ],
)
def test_bad_filters_are_refused_naming_them(viewer, log, query, message):
    response = viewer.get("/dags/etl/events?dag_id=other")
    assert response.status_code == 400
    assert (
        "dag_id: this page shows etl&#x27;s events, not other&#x27;s" in response.content.decode()
    )
    for path in ("/dags/etl/events", "/audit/"):
        response = viewer.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert message in response.content.decode(), path


def test_pages_keep_the_filters_and_do_not_grow_with_events(viewer, django_assert_max_num_queries):
    store_dag("etl")
    for i in range(PAGE_SIZE + 5):
        _event("clear", owner="ops", when=T + timedelta(seconds=i))
        _event("success", owner=RUNNER_ACTOR.name, when=T + timedelta(seconds=i))
    first = viewer.get("/dags/etl/events?owner=ops").content.decode()
    assert len(_rows(first)) == PAGE_SIZE
    assert 'href="/dags/etl/events?owner=ops&amp;page=2"' in first
    second = viewer.get("/dags/etl/events?owner=ops&page=2").content.decode()
    assert len(_rows(second)) == 5
    few = queries_of(viewer, "/dags/etl/events?owner=ops&page=2")
    assert queries_of(viewer, "/dags/etl/events?runner=1") == few
    with django_assert_max_num_queries(CAP):
        viewer.get("/dags/etl/events?runner=1")
