"""The grid in a browser: a tooltip on hover, group rows collapsing on click (remembered
across a reload), the whole page width used, and no console errors."""

from __future__ import annotations

import pytest

from dagruns.domain.roles import Role
from tests.browser.conftest import person, screenshot
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.browser


@pytest.fixture
def grouped(live_env):
    dag = store_dag(
        "grouped",
        {"start": ["load.a", "load.b"], "load.a": ["end"], "load.b": ["end"], "end": []},
        groups={"load": ["load.a", "load.b"]},
    )
    for failed in (False, True, False):
        states = {"start": "success", "load.a": "success", "load.b": "success", "end": "success"}
        if failed:
            states.update({"load.b": "failed", "end": "upstream_failed"})
        add_run(dag, states=states, state="failed" if failed else "success")
    return dag


def test_hover_shows_a_tooltip_and_a_group_row_or_cell_click_collapses_it_remembered(
    pages, grouped
):
    page = pages.open(*person("grid_user", Role.VIEWER))
    page.goto("/dags/grouped/")
    page.hover("#grid a.cell[data-task-id='load.b'][data-state='failed']")
    tip = page.locator("#tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "load.b" in text and "State: failed" in text and "Try: 1" in text
    assert "Duration: 8.0 s" in text
    page.hover("#grid .runbar[data-state='failed']")
    page.wait_for_function("document.getElementById('tip').textContent.includes('Logical date')")
    assert "Duration: 5 min 00 s" in tip.inner_text()

    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")
    assert page.locator("#grid .gdate").first.inner_text() == "01-01 00:00"
    # The grid uses the page's width, not a corner of it.
    grid_width = page.eval_on_selector("#grid", "el => el.getBoundingClientRect().width")
    assert grid_width > 1000
    screenshot(page, "grid-time")

    child = page.locator("#grid .grow.task:has(a.cell[data-task-id='load.a'])")
    assert child.is_visible()
    page.click("#grid .grow.group .gname .glabel")
    child.wait_for(state="hidden")
    page.reload()
    page.wait_for_selector("#grid .grow.group.collapsed")
    assert not child.is_visible()
    page.click("#grid .grow.group .gcell")  # a group's cell toggles it too
    child.wait_for(state="visible")
    assert pages.console_errors == []


FOCUSED = """() => {
  const el = document.activeElement;
  return [el.dataset.taskId || el.dataset.groupId || '', el.dataset.runId || '',
          getComputedStyle(el).outlineStyle];
}"""


def test_the_grid_is_navigable_with_the_keyboard(pages, grouped):
    page = pages.open(*person("keys_user", Role.VIEWER))
    page.goto("/dags/grouped/")
    page.wait_for_selector("#grid a.cell")
    runs = page.eval_on_selector_all("#grid .runbar", "bars => bars.map(b => b.dataset.runId)")
    page.keyboard.press("ArrowRight")  # enters the grid at its first cell
    assert page.evaluate(FOCUSED) == ["start", runs[0], "solid"]  # a visible focus ring
    page.keyboard.press("Shift+ArrowRight")  # Airflow 3's binding works too
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED)[:2] == ["load", runs[1]]
    page.keyboard.press(" ")  # collapses the group; its tasks are skipped
    page.locator("#grid .grow.task:has(a.cell[data-task-id='load.a'])").wait_for(state="hidden")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED)[:2] == ["end", runs[1]]
    page.keyboard.press("Control+ArrowRight")
    assert page.evaluate(FOCUSED)[:2] == ["end", runs[-1]]
    page.keyboard.press("Control+ArrowUp")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(FOCUSED)[:2] == ["start", runs[1]]

    page.keyboard.press("Enter")
    page.wait_for_selector("#panel:not([hidden]) .ti-panel")
    assert "start" in page.inner_text("#panel")
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert page.evaluate(FOCUSED)[:2] == ["start", runs[1]]  # back where it was

    page.keyboard.press("?")
    help_box = page.locator("dialog#shortcuts")
    help_box.wait_for(state="visible")
    assert "Move between grid cells" in help_box.inner_text()
    page.keyboard.press("Escape")
    help_box.wait_for(state="hidden")
    screenshot(page, "grid-keyboard")
    page.click("#grid [data-shortcuts]")
    help_box.wait_for(state="visible")
    assert pages.console_errors == []
