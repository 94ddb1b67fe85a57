"""Mapped task instances in the pages: the grid cell (count, aggregate state, state counts),
the graph node ("[n]" on a stacked box), the task page (the instances of a mapped task, one
instance with its tries, log, XComs and picker), the 404 naming a missing map index, and
clear/mark of one map index from the UI."""

from __future__ import annotations

import re

import pytest

from dagruns.actions.xcoms import do_set_xcom
from dagruns.domain import logs
from dagruns.models import TaskInstance
from dagruns.ui.live import fragments
from tests.builders import add_run, store_dag
from tests.mapped_rows import expand

pytestmark = pytest.mark.django_db

BASE = "/dags/fan/runs/r1/tasks"


@pytest.fixture
def fan():
    dag = store_dag("fan", {"make": ["work"], "work": ["report"], "report": []})
    run = add_run(dag, "r1", states={"make": "success"})
    expand(run, "work", ["success", "failed", "running", None])
    return run


def _cell(html: str, task_id: str) -> str:
    found = re.search(rf'<a class="cell[^"]*"[^>]*data-task-id="{task_id}"[^>]*>.*?</a>', html)
    assert found, f"no cell for {task_id}"
    return found.group(0)


def test_the_grid_cell_of_a_mapped_task_shows_its_count_and_aggregate_state(viewer, fan):
    html = viewer.get("/dags/fan/").content.decode()
    cell = _cell(html, "work")
    # Airflow's rule: failed outranks running, none and success.
    assert 'class="cell s-failed mapped"' in cell and 'data-mapped="4"' in cell
    assert ">4</span>" in cell
    assert '4 mapped: 1 running, 1 success, 1 failed, 1 none"' in cell  # its tooltip
    assert f'href="{BASE}/work"' in cell
    assert "data-mapped" not in _cell(html, "make")


def test_a_live_update_redraws_the_mapped_cell_with_the_new_summary(fan):
    TaskInstance.objects.filter(dag_run=fan, task_id="work", map_index=1).update(state="success")
    sent = fragments(
        "fan", "grid", {"num_runs": 25}, [{"kind": "ti", "run_id": "r1", "task_id": "work"}]
    )
    cell = _cell(sent, "work")
    assert 'class="cell s-running mapped"' in cell and 'hx-swap-oob="true"' in cell
    assert "2 success, 1 running, 1 none" in cell


def test_the_graph_draws_a_mapped_task_stacked_with_its_count(viewer, fan):
    html = viewer.get("/dags/fan/graph", {"run_id": "r1"}).content.decode()
    node = re.search(r'<svg class="node s-failed"[^>]*data-task-id="work".*?</svg>', html, re.S)
    assert node and 'class="node-stack"' in node.group(0)
    assert 'data-mapped="4">[4]</text>' in node.group(0)
    live = fragments(
        "fan", "graph", {"run_id": "r1"}, [{"kind": "ti", "run_id": "r1", "task_id": "work"}]
    )
    assert "[4]" in live


def test_a_mapped_tasks_page_lists_its_instances_with_state_counts(viewer, fan):
    response = viewer.get(f"{BASE}/work")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-mapped="4"' in html
    for index in range(4):
        assert f'data-map-index="{index}"' in html and f'href="{BASE}/work/mapped/{index}"' in html
    assert 'data-state-count="failed">1 failed' in html
    assert "item-0" in html  # the rendered map index names the instance


def test_the_picker_opens_the_instance_by_its_own_url(viewer, fan):
    response = viewer.get(f"{BASE}/work", {"map_index": "2"})
    assert response.status_code == 302 and response["Location"] == f"{BASE}/work/mapped/2"


def test_one_instance_has_its_own_tries_log_xcoms_and_neighbours(viewer, fan):
    ti = TaskInstance.objects.get(dag_run=fan, task_id="work", map_index=1)
    logs.append_lines(logs.ti_log_path(ti, 1), ["index one at work"])
    do_set_xcom(fan, "work", "return_value", {"i": 1}, map_index=1)
    do_set_xcom(fan, "work", "return_value", {"i": 2}, map_index=2)
    html = viewer.get(f"{BASE}/work/mapped/1").content.decode()
    assert 'data-map-index="1">[1]</a>' in html
    assert "index one at work" in html
    assert "&quot;i&quot;: 1" in html and "&quot;i&quot;: 2" not in html
    assert f'href="{BASE}/work/mapped/0" data-map-nav="prev"' in html
    assert f'href="{BASE}/work/mapped/2" data-map-nav="next"' in html
    assert f"{BASE}/work/mapped/1/logs/1/download" in html
    log = viewer.get(f"{BASE}/work/mapped/1/logs/1/download")
    assert log.status_code == 200 and b"index one at work" in b"".join(log.streaming_content)
    assert "__map-1__" in log["Content-Disposition"]


def test_a_map_index_the_task_lacks_is_a_404_that_names_it(viewer, fan):
    missing = viewer.get(f"{BASE}/work/mapped/9")
    assert missing.status_code == 404
    text = missing.content.decode()
    assert "has no map index 9" in text and "map index 0..3" in text
    unmapped = viewer.get(f"{BASE}/make/mapped/0")
    assert unmapped.status_code == 404 and "is not mapped" in unmapped.content.decode()
    assert viewer.get(f"{BASE}/work/mapped/9/logs/1").status_code == 404
    assert viewer.get(f"{BASE}/work/logs/1").status_code == 404  # which instance's log?


def test_clear_from_the_ui_acts_on_the_one_map_index(user, fan):
    page = user.get(f"{BASE}/work/mapped/1").content.decode()
    assert "task_id=work&amp;map_index=1" in page  # its clear / mark buttons name the index
    shown = user.get("/dags/fan/clear", {"run_id": "r1", "task_id": "work", "map_index": 1})
    html = shown.content.decode()
    # Index 1 and its downstream (the default), not the other instances of `work`.
    assert 'data-change-count="2"' in html
    assert '<input type="hidden" name="map_index" value="1">' in html
    response = user.post(
        "/dags/fan/clear",
        {"run_id": "r1", "task_id": "work", "map_index": "1", "confirm": "1", "options": "1"},
    )
    assert response.status_code == 302
    states = dict(
        TaskInstance.objects.filter(dag_run=fan, task_id="work").values_list("map_index", "state")
    )
    assert states == {0: "success", 1: None, 2: "running", 3: None}


def test_mark_from_the_ui_acts_on_the_one_map_index(user, fan):
    response = user.post(
        "/dags/fan/mark",
        {
            "run_id": "r1",
            "task_id": "work",
            "map_index": "2",
            "state": "failed",
            "confirm": "1",
            "options": "1",
        },
    )
    assert response.status_code == 302
    states = dict(
        TaskInstance.objects.filter(dag_run=fan, task_id="work").values_list("map_index", "state")
    )
    assert states == {0: "success", 1: "failed", 2: "failed", 3: None}


def test_an_action_on_a_missing_map_index_is_refused_naming_it(user, fan):
    response = user.get(
        "/dags/fan/mark", {"run_id": "r1", "task_id": "work", "map_index": 7, "state": "success"}
    )
    assert "has no map index 7" in response.content.decode()
    bad = user.get("/dags/fan/clear", {"run_id": "r1", "task_id": "work", "map_index": "x"})
    assert "map_index must be a whole number" in bad.content.decode()


def test_the_gantt_draws_a_mapped_task_as_one_bar_over_its_instances(viewer, fan):
    from dagruns.ui.gantt import build_gantt

    fan.refresh_from_db()
    bars = {b.task_id: b for b in build_gantt(fan)["bars"]}
    work = bars["work"]
    assert work.label == "work [4]" and work.state == "failed"
    # Instance 2 still runs: the bar is open-ended.
    assert work.start is not None and work.end is None
    html = viewer.get("/dags/fan/gantt", {"run_id": "r1"}).content.decode()
    assert "work [4]" in html


def test_an_open_task_page_refreshed_after_expansion_shows_the_instances(viewer, db):
    dag = store_dag("late", {"work": []})
    run = add_run(dag, "r1")
    before = viewer.get("/dags/late/runs/r1/tasks/work").content.decode()
    assert 'id="ti-summary"' in before
    expand(run, "work", ["running", "queued"])
    summary = viewer.get(
        "/dags/late/runs/r1/tasks/work", headers={"HX-Request": "true", "HX-Target": "ti-summary"}
    ).content.decode()
    assert summary.startswith('<div id="mapped-instances"') and "2 mapped instances" in summary
    log = viewer.get(
        "/dags/late/runs/r1/tasks/work", headers={"HX-Request": "true", "HX-Target": "ti-logs"}
    ).content.decode()
    assert 'id="ti-logs"' in log and "open one of its instances" in log


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm the per-version caches, as a running server has them
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/dags/{dag}/",
        "/dags/{dag}/graph",
        "/dags/{dag}/gantt",
        "/dags/{dag}/runs/r1/tasks/work",
        "/dags/{dag}/runs/r1/tasks/work/mapped/1",
    ],
)
def test_pages_do_not_grow_with_the_number_of_mapped_instances(viewer, db, path):
    for dag_id, count in (("few", 3), ("many", 400)):
        dag = store_dag(dag_id, {"make": ["work"], "work": []})
        expand(add_run(dag, "r1", states={"make": "success"}), "work", ["success"] * count)
    assert _queries(viewer, path.format(dag="few")) == _queries(viewer, path.format(dag="many"))


def test_the_graph_stacks_a_declared_mapped_task_before_it_expands(viewer, db):
    from tests.mapped_rows import mark_mapped

    dag = store_dag("pending", {"make": ["work"], "work": []})
    run = add_run(dag, "r1")
    mark_mapped(run, "work")
    html = viewer.get("/dags/pending/graph", {"run_id": "r1"}).content.decode()
    node = re.search(r'<svg class="node s-none"[^>]*data-task-id="work".*?</svg>', html, re.S)
    assert node and 'class="node-stack"' in node.group(0) and ">[ ]</text>" in node.group(0)
    plain = re.search(r'<svg class="node s-none"[^>]*data-task-id="make".*?</svg>', html, re.S)
    assert plain and "node-stack" not in plain.group(0)


def test_a_mapped_task_not_expanded_yet_or_expanded_to_nothing_says_so(viewer, db):
    from tests.mapped_rows import mark_mapped

    dag = store_dag("pending", {"work": []})
    run = add_run(dag, "r1")
    mark_mapped(run, "work")
    waiting = viewer.get("/dags/pending/runs/r1/tasks/work").content.decode()
    assert "its instances appear once its input is known" in waiting
    TaskInstance.objects.filter(dag_run=run).update(state="skipped")
    empty = viewer.get("/dags/pending/runs/r1/tasks/work").content.decode()
    assert "its input was empty, so it has no instances" in empty
