"""Input the pages must survive: markup and unicode in every id and value, run ids with
`/ + :`, a 50 MB log, a 1,000-task DAG, 500 runs, unknown objects, and people without the
right role."""

from __future__ import annotations

import pytest
from django.test import Client

from dagruns.domain import logs
from dagruns.models import AuditEvent, DagRun, TaskInstance, XCom
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

EVIL = "<script>alert('x')</script>\"'é漢🙂"
EVIL_ID = "evil<script>alert(1)</script>\"'é漢"


@pytest.fixture
def evil_dag(settings):
    settings.DEBUG = False
    dag = store_dag(
        EVIL_ID,
        {"t<script>alert(2)</script>'\"ü": ["load"], "load": []},
        tags=["<b>tag</b>"],
        params={"who": {"default": EVIL, "description": EVIL, "schema": {"type": "string"}}},
        source=f"# {EVIL}\n",
    )
    run = add_run(
        dag, run_id="run<script>alert(3)</script>", states={"load": "failed"}, conf={"k": EVIL}
    )
    ti = TaskInstance.objects.get(dag_run=run, task_id="load")
    ti.rendered_fields = {"bash_command": EVIL}
    ti.save()
    XCom.objects.create(
        dag_run=run,
        dag_id=dag.dag_id,
        run_id=run.run_id,
        task_id="load",
        key=EVIL,
        value={"v": EVIL},
    )
    logs.append_lines(logs.ti_log_path(ti), [f"line with {EVIL}"])
    AuditEvent.objects.create(
        event="trigger", owner=EVIL, dag_id=dag.dag_id, run_id=run.run_id, extra={"conf": EVIL}
    )
    return dag, run


def _assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_markup_in_ids_values_logs_and_xcoms_is_escaped_everywhere(viewer, user, evil_dag):
    dag, run = evil_dag
    base = f"/dags/{dag.dag_id}/"
    for client, path in [
        (viewer, "/"),
        (viewer, base),
        (viewer, base + "graph"),
        (viewer, base + "gantt"),
        (viewer, base + "code"),
        (viewer, base + "tasks"),
        (viewer, base + "details"),
        (viewer, base + "calendar"),
        (viewer, base + "durations"),
        (viewer, base + "events"),
        (viewer, base + "runs"),
        (viewer, f"{base}runs/{run.run_id}/tasks/load"),
        (viewer, "/audit/"),
        (user, base + "trigger"),
        (user, f"{base}clear?run_id={run.run_id}&task_id=load"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_escaped(response.content.decode())


def test_the_log_search_escapes_matches(viewer, evil_dag):
    dag, run = evil_dag
    response = viewer.get(
        f"/dags/{dag.dag_id}/runs/{run.run_id}/tasks/load/logs/1", {"q": "script"}
    )
    html = response.content.decode()
    assert "<mark>script</mark>" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    "run_id", ["a/b", "manual__2024-01-01T00:00:00+00:00", "x:y+z/w", "sp ace"]
)
def test_run_ids_with_slashes_plus_and_colons_work_in_every_url(viewer, run_id):
    dag = store_dag("odd_runs")
    run = add_run(dag, run_id=run_id, states={"extract": "success"})
    grid = viewer.get("/dags/odd_runs/").content.decode()
    import re

    hrefs = re.findall(r'href="([^"]+/tasks/extract)"', grid)
    assert hrefs, grid
    from html import unescape

    response = viewer.get(unescape(hrefs[0]))
    assert response.status_code == 200
    assert response.context["run"].pk == run.pk
    assert viewer.get("/dags/odd_runs/graph", {"run_id": run_id}).status_code == 200
    assert viewer.get("/dags/odd_runs/gantt", {"run_id": run_id}).status_code == 200


def test_a_50_mb_log_is_paged(viewer, tmp_path):
    dag = store_dag("chatty")
    run = add_run(dag, states={"extract": "success"})
    ti = TaskInstance.objects.get(dag_run=run, task_id="extract")
    path = logs.ti_log_path(ti)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = ("x" * 99 + "\n").encode()
    with path.open("wb") as handle:
        block = line * 10_000
        for _ in range(50):
            handle.write(block)
    assert path.stat().st_size == 50_000_000
    url = f"/dags/chatty/runs/{run.run_id}/tasks/extract"
    response = viewer.get(url)
    assert response.status_code == 200
    assert len(response.content) < 2_000_000  # one page, not the file
    html = response.content.decode()
    assert "counter-reset: ln 497" in html  # the last page, numbered from where it starts
    first = viewer.get(f"{url}/logs/1", {"offset": 0, "line": 1})
    assert "counter-reset: ln 0" in first.content.decode()
    assert len(first.content) < 2_000_000
    download = viewer.get(f"{url}/logs/1/download")
    assert download.status_code == 200
    assert int(download["Content-Length"]) == 50_000_000


def test_a_dag_with_1000_tasks_renders(viewer):
    tasks = {f"task_{i:04d}": [f"task_{i + 1:04d}"] if i % 10 != 9 else [] for i in range(1000)}
    dag = store_dag("huge", tasks)
    add_run(dag, states={"task_0000": "success", "task_0001": "running"})
    for path in ("/dags/huge/", "/dags/huge/graph", "/dags/huge/gantt"):
        response = viewer.get(path)
        assert response.status_code == 200
        assert response.content.decode().count('data-task-id="task_0') >= 1000


def test_a_dag_with_500_runs_shows_the_newest_and_pages_the_rest(viewer):
    dag = store_dag("busy", {"only": []})
    from datetime import timedelta

    from tests.builders import T0

    DagRun.objects.bulk_create(
        DagRun(
            dag=dag,
            run_id=f"r{i:03d}",
            run_type="scheduled",
            state="success",
            run_after=T0 + timedelta(hours=i),
            logical_date=T0 + timedelta(hours=i),
        )
        for i in range(500)
    )
    html = viewer.get("/dags/busy/").content.decode()
    assert 'data-run-id="r499"' in html and 'data-run-id="r475"' in html
    assert 'data-run-id="r474"' not in html
    runs_page = viewer.get("/dags/busy/runs", {"page": 20}).content.decode()
    assert "Page 20 of 20" in runs_page
    assert viewer.get("/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/dags/nope/",
        "/dags/nope/graph",
        "/dags/etl/runs/nope/tasks/extract",
        "/dags/etl/runs/scheduled__2024-01-01T00:00:00+00:00/tasks/nope",
        "/dags/etl/graph?run_id=nope",
        "/no-such-page/",
    ],
)
def test_unknown_dags_runs_and_tasks_get_the_404_page(viewer, settings, path):
    settings.DEBUG = False
    dag = store_dag("etl")
    add_run(dag)
    response = viewer.get(path)
    assert response.status_code == 404
    assert "404 — not found" in response.content.decode()


def test_signed_out_people_are_sent_to_the_login_page(db):
    response = Client().get("/dags/etl/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    htmx = Client().get("/dags/etl/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx["HX-Redirect"].startswith("/login/")


def test_a_user_without_a_role_is_refused(stranger, settings):
    settings.DEBUG = False
    response = stranger.get("/")
    assert response.status_code == 403
    assert "403 — not allowed" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("pause", {"paused": "1"}),
        ("trigger", {"conf": "{}", "confirm": "1", "conf_json": "{}"}),
        ("clear", {"task_id": "extract", "confirm": "1"}),
        ("mark", {"task_id": "extract", "state": "success", "confirm": "1"}),
        ("retry", {"task_id": "extract", "confirm": "1"}),
        ("delete-run", {"confirm": "1"}),
        ("run-state", {"state": "success", "confirm": "1"}),
    ],
)
def test_a_viewer_posting_an_action_gets_403_and_nothing_changes(viewer, path, data):
    dag = store_dag("etl")
    run = add_run(dag, states={"extract": "failed"}, state="failed")
    before = list(TaskInstance.objects.order_by("pk").values_list("state", "try_number"))
    response = viewer.post(f"/dags/etl/{path}", {**data, "run_id": run.run_id})
    assert response.status_code == 403
    dag.refresh_from_db()
    assert not dag.is_paused
    assert DagRun.objects.count() == 1
    assert DagRun.objects.get().state == "failed"
    assert list(TaskInstance.objects.order_by("pk").values_list("state", "try_number")) == before


def test_posting_without_the_csrf_token_is_refused(db):
    from django.contrib.auth.models import User

    from dagruns.domain.roles import Role, assign_role
    from tests.personas import make_user

    person = make_user("csrf", Role.USER)
    assign_role(person, Role.USER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(pk=person.pk))
    store_dag("etl")
    assert client.post("/dags/etl/pause", {"paused": "1"}).status_code == 403
