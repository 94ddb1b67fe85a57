"""A mapped task in a real browser against the real stack: the grid cell shows the instance
count and changes colour live when one instance changes in another process; clicking it opens
the instances in the panel, an instance opens with its own log, and the picker walks to the
next one — all without reloading the page."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.task_instances import do_mark_state
from dagruns.domain import logs
from dagruns.domain.roles import Role
from dagruns.models import TaskInstance
from dagruns.notify.events import publish
from tests.browser.conftest import person, screenshot
from tests.browser.test_dashboard import assert_no_reload, mark_no_reload, wait_socket
from tests.builders import add_run, store_dag
from tests.mapped_rows import expand

pytestmark = pytest.mark.browser

CELL = "#grid a.cell[data-task-id='work']"


def test_a_mapped_task_in_the_grid_panel_and_picker(pages, live_env):
    dag = store_dag("ui_mapped", {"make": ["work"], "work": []})
    # A finished run: the scheduler has nothing to do with it while the page is watched.
    run = add_run(dag, "r1", state="failed", states={"make": "success"})
    expand(run, "work", ["success", "failed", "success"])
    for index in range(3):
        ti = TaskInstance.objects.get(dag_run=run, task_id="work", map_index=index)
        logs.append_lines(logs.ti_log_path(ti, 1), [f"instance {index} log line"])
    page = pages.open(*person("maya", Role.VIEWER))
    page.goto("/dags/ui_mapped/")
    wait_socket(page)
    mark_no_reload(page)
    assert page.get_attribute(CELL, "data-state") == "failed"
    assert page.inner_text(CELL) == "3"
    screenshot(page, "mapped-grid")

    failed = TaskInstance.objects.get(dag_run=run, task_id="work", map_index=1)
    do_mark_state([failed], "success", Actor(name="test"))
    publish({"kind": "ti", "dag_id": "ui_mapped", "run_id": "r1", "task_id": "work"})
    page.wait_for_selector(CELL + "[data-state='success']", timeout=15_000)
    assert page.get_attribute(CELL, "data-tip") == "work\n3 mapped: 3 success"

    page.click(CELL)
    page.wait_for_selector("#panel .mapped-panel tr[data-map-index='2']")
    assert page.locator("#panel tr[data-map-index]").count() == 3
    page.click("#panel tr[data-map-index='1'] a")
    page.wait_for_selector("#panel .ti-title [data-map-index='1']")
    page.wait_for_function(
        "() => document.querySelector('#panel .log-body') && document.querySelector('#panel .log-body').innerText.includes('instance 1 log line')"
    )
    page.click("#panel [data-map-nav='next']")
    page.wait_for_selector("#panel .ti-title [data-map-index='2']")
    page.wait_for_function(
        "() => document.querySelector('#panel .log-body') && document.querySelector('#panel .log-body').innerText.includes('instance 2 log line')"
    )
    screenshot(page, "mapped-instance-panel")
    assert_no_reload(page)
