"""The graph in a browser: "fit" brings every node of a 50-wide fan-out into view, the wheel
zooms, a task group collapses into one node carrying its tasks' state, and a live update still
reaches the collapsed node — with no console errors."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.task_instances import do_mark_state
from dagruns.domain.roles import Role
from dagruns.models import TaskInstance
from dagruns.notify.events import publish
from tests.browser.conftest import person, screenshot
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.browser

FAN = [f"fan.t{i:02d}" for i in range(50)]

IN_VIEW = """nodes => {
  const frame = document.querySelector('#graph .graph-scroll').getBoundingClientRect();
  return nodes.filter(n => {
    const r = n.getBoundingClientRect();
    return r.width > 0 && r.left >= frame.left - 1 && r.right <= frame.right + 1
      && r.top >= frame.top - 1 && r.bottom <= frame.bottom + 1
      && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
  }).length;
}"""


@pytest.fixture
def fan_out(live_env):
    dag = store_dag(
        "fan_out",
        {"start": FAN, **{t: ["end"] for t in FAN}, "end": []},
        groups={"fan": FAN},
    )
    # A finished run: the test's scheduler leaves it alone, so only the test changes states.
    states = dict.fromkeys(["start", *FAN, "end"], "success")
    return add_run(dag, run_id="r1", states={**states, "fan.t00": "skipped"}, state="success")


def test_fit_zoom_and_a_collapsed_group_that_still_updates_live(pages, fan_out):
    page = pages.open(*person("graph_user", Role.VIEWER))
    page.goto("/dags/fan_out/graph")
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    nodes = "#graph svg .node[data-run-id='r1']"
    assert page.locator(nodes).count() == 52
    page.click("#graph [data-graph='reset']")
    assert page.eval_on_selector_all(nodes, IN_VIEW) < 52  # at actual size it overflows
    page.click("#graph [data-graph='fit']")
    assert page.eval_on_selector_all(nodes, IN_VIEW) == 52
    screenshot(page, "graph-fan-out-fit")

    before = page.get_attribute("#graph .graph-view", "transform")
    page.hover("#graph .graph-scroll")
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        f"document.querySelector('#graph .graph-view').getAttribute('transform') !== {before!r}"
    )
    assert float(page.get_attribute("#graph", "data-zoom")) > float(
        before.split("scale(")[1].rstrip(")")
    )

    # The keyboard: arrows move between nodes, Enter opens one in the panel (which floats
    # over the graph: the frame keeps its width), Escape closes it, "f" fits again.
    frame_width = page.eval_on_selector("#graph .graph-scroll", "el => el.clientWidth")
    page.keyboard.press("ArrowRight")
    focused = "() => document.activeElement.closest('.node').dataset.taskId"
    assert page.evaluate(focused) == "start"
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused).startswith("fan.t")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == "end"
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel:not([hidden]) .ti-panel")
    assert page.eval_on_selector("#graph .graph-scroll", "el => el.clientWidth") == frame_width
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    page.keyboard.press("f")

    # Collapse the group: one node for its 50 tasks, in the worst of their states (Airflow's
    # order: success before skipped).
    page.click("#graph .tgroup[data-group-id='fan'] .group-label")
    group = "#graph svg .node[data-group-id='fan']"
    page.wait_for_selector(group + "[data-task-id='fan'][data-state='success']")
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    assert page.locator(nodes).count() == 3  # start, the group, end
    assert "collapsed=fan" in page.url

    ti = TaskInstance.objects.get(dag_run=fan_out, task_id="fan.t07")
    do_mark_state([ti], "failed", Actor(name="test"))
    publish(
        {"kind": "ti", "dag_id": "fan_out", "run_id": "r1", "task_id": "fan.t07", "try_number": 1}
    )
    page.wait_for_selector(group + "[data-state='failed']", timeout=15_000)
    screenshot(page, "graph-collapsed-group")

    page.click(group)  # expands it again
    page.wait_for_selector(nodes + "[data-task-id='fan.t07'][data-state='failed']")
    assert page.locator(nodes).count() == 52
    # Space on a task inside the group collapses the group from the keyboard.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.wait_for_selector(group)
    assert pages.console_errors == []
