"""The DAG details and task list tabs: what the latest version declares, rendered safely, at a
constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dagruns.models import DagModel, DagVersion
from dagruns.sdk import DAG, Param
from dagruns.sdk.operators.empty import EmptyOperator
from tests.builders import add_run, store, store_dag

pytestmark = pytest.mark.django_db

CAP = 14  # session, user, role groups, the page's own handful (as tests/…/test_query_counts.py)


def _with(dag_id: str, **fields) -> DagModel:
    """A stored DAG whose latest version's serialized form also holds `fields`."""
    dag = store_dag(dag_id)
    version = DagVersion.objects.get(dag=dag)
    version.serialized = {**version.serialized, **fields}
    version.save(update_fields=["serialized"])
    return dag


def test_details_show_the_dags_settings_and_rendered_doc(viewer):
    _with(
        "documented",
        doc_md="# Heading\n\nSome **bold** text and a [link](https://example.com/x).",
        start_date="2024-01-01T00:00:00+00:00",
        catchup=True,
        timezone="Europe/Paris",
        default_args={"retries": 3, "owner": "ops"},
        params={
            "limit": {
                "default": 5,
                "has_default": True,
                "description": "rows to read",
                "schema": {"type": "integer"},
            }
        },
    )
    DagModel.objects.filter(dag_id="documented").update(owners="ops, data", description="d1")
    body = viewer.get("/dags/documented/details").content.decode()
    assert "<h1>Heading</h1>" in body
    assert "<strong>bold</strong>" in body
    assert '<a href="https://example.com/x">link</a>' in body
    assert "At 00:00" in body  # the schedule in words
    assert "Europe/Paris" in body and "2024-01-01T00:00:00+00:00" in body
    assert "ops, data" in body and "d1" in body
    assert "&quot;retries&quot;: 3" in body
    assert "rows to read" in body and "&quot;integer&quot;" in body
    assert "/dags/documented/code?version=1" in body
    assert '<a href="/dags/documented/details" aria-current="page">Details</a>' in body
    assert '<a href="/dags/documented/tasks"' in body


@pytest.mark.parametrize(
    "hostile, absent",
    [
        ("<script>alert(1)</script>", "<script>alert(1)"),
        ("[x](javascript:alert(1))", 'href="javascript:'),
        ("<img src=x onerror=alert(1)>", "<img src=x"),
        ("[x](JaVaScRiPt:alert(1))", 'href="JaVaScRiPt'),
        ("![i](data:text/html;base64,PHNjcmlwdD4=)", 'src="data:text/html'),
    ],
)
def test_hostile_doc_md_is_shown_as_text(viewer, hostile, absent):
    _with("hostile", doc_md=hostile)
    body = viewer.get("/dags/hostile/details").content.decode()
    assert absent not in body
    assert '<div class="doc-md">' in body


def test_an_unparsed_dag_has_details_and_tasks_pages_saying_so(viewer):
    DagModel.objects.create(dag_id="fresh", fileloc="/dags/fresh.py")
    for tab in ("details", "tasks"):
        response = viewer.get(f"/dags/fresh/{tab}")
        assert response.status_code == 200
        assert "has not been parsed yet" in response.content.decode()


def test_the_task_list_shows_every_tasks_settings(viewer):
    store_dag(
        "listed",
        {"a": ["b", "c"], "b": [], "c": []},
        task_settings={
            "a": {"doc_md": 'Reads "<b>rows</b>"', "owner": "ops", "retries": 2},
            "b": {"is_mapped": True, "trigger_rule": "all_done", "pool": "small"},
        },
    )
    body = viewer.get("/dags/listed/tasks").content.decode()
    row_a = body.split('data-task-id="a"')[1].split("</tr>")[0]
    assert 'title="Reads &quot;&lt;b&gt;rows&lt;/b&gt;&quot;"' in row_a
    cells = row_a.split("<td")
    assert ">2<" in cells[4] and ">ops<" in cells[7] and ">0<" in cells[8] and ">2<" in cells[9]
    row_b = body.split('data-task-id="b"')[1].split("</tr>")[0]
    assert "all_done" in row_b and "small" in row_b and "mapped" in row_b
    row_c = body.split('data-task-id="c"')[1].split("</tr>")[0]
    assert "mapped" not in row_c


def _queries(client, path: str) -> int:
    client.get(path)  # warm the per-version caches, as a running server has them
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("tab", ["details", "tasks"])
def test_the_tabs_do_not_grow_with_tasks_or_versions(viewer, tab, django_assert_max_num_queries):
    store_dag("small", {"t0": []})
    edges = {f"t{i}": [f"t{i + 1}"] if i < 99 else [] for i in range(100)}
    for _ in range(5):
        store_dag("large", edges)
    assert _queries(viewer, f"/dags/small/{tab}") == _queries(viewer, f"/dags/large/{tab}")
    with django_assert_max_num_queries(CAP):
        viewer.get(f"/dags/large/{tab}")


def test_the_task_instance_page_renders_the_tasks_doc_safely(viewer):
    dag = store_dag(
        "task_docs",
        {"a": []},
        task_settings={"a": {"doc_md": "Loads *rows*.\n\n<script>alert(1)</script>"}},
    )
    run = add_run(dag, run_id="r1", states={"a": "success"})
    body = viewer.get(f"/dags/task_docs/runs/{run.run_id}/tasks/a").content.decode()
    assert "Task documentation" in body
    assert "<em>rows</em>" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body


def test_a_task_without_doc_has_no_doc_section(viewer):
    dag = store_dag("no_docs", {"a": []})
    run = add_run(dag, run_id="r1", states={"a": "success"})
    body = viewer.get(f"/dags/no_docs/runs/{run.run_id}/tasks/a").content.decode()
    assert "Task documentation" not in body


def test_owner_links_are_links_only_in_safe_schemes(viewer):
    _with(
        "owned",
        owner_links={"ops": "https://example.com/ops", "evil": "javascript://x%0aalert(1)"},
        dagrun_timeout=3600.0,
    )
    DagModel.objects.filter(dag_id="owned").update(owners="ops, evil")
    body = viewer.get("/dags/owned/details").content.decode()
    assert '<a href="https://example.com/ops" rel="noopener noreferrer">ops</a>' in body
    owners_cell = body.split("<th>owners</th>")[1].split("</tr>")[0]
    assert owners_cell.endswith(", evil</td>") and "javascript" not in owners_cell
    assert "1 h 00 min" in body.split("<th>dagrun_timeout</th>")[1].split("</tr>")[0]


def test_a_dag_serialized_from_the_sdk_shows_what_it_declares(viewer):
    """Through serialize_dag, as the DAG processor stores it: the keys the pages read exist."""
    with DAG(
        "from_sdk",
        schedule=None,
        start_date=datetime(2024, 3, 1, tzinfo=UTC),
        doc_md="Loads **everything**.",
        default_args={"retries": 4},
        params={"n": Param(7, description="how many", type="integer")},
        dagrun_timeout=timedelta(minutes=30),
    ) as dag:
        first = EmptyOperator(task_id="first", doc_md="The first one.", queue="fast")
        second = EmptyOperator(task_id="second", trigger_rule="all_done", pool="narrow")
        first >> second
    store(dag)
    details_page = viewer.get("/dags/from_sdk/details").content.decode()
    assert "<strong>everything</strong>" in details_page
    assert "2024-03-01T00:00:00" in details_page and "30 min" in details_page
    assert "how many" in details_page and "&quot;retries&quot;: 4" in details_page
    tasks_page = viewer.get("/dags/from_sdk/tasks").content.decode()
    first_row = tasks_page.split('data-task-id="first"')[1].split("</tr>")[0]
    assert 'title="The first one."' in first_row and "fast" in first_row
    assert ">4<" in first_row and "EmptyOperator" in first_row
    second_row = tasks_page.split('data-task-id="second"')[1].split("</tr>")[0]
    assert "all_done" in second_row and "narrow" in second_row
