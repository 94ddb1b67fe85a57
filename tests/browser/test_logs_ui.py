"""The log view in a real browser: a failed task's ERROR lines and traceback coloured, a
::group:: folded until clicked, the wrap toggle remembered across a reload; and the DAG list
taking a burst of live updates without a console error, its theme toggle naming the mode."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.roles import Role
from dagruns.models import TaskInstance
from dagruns.notify.events import publish
from tests.browser.conftest import person, screenshot, write_dag
from tests.builders import add_run, store_dag
from tests.polling import wait_until

pytestmark = pytest.mark.browser

GROUPED_FAILURE = """
with DAG("ui_log_fold", schedule=None, start_date=START) as dag:
    BashOperator(
        task_id="boom",
        retries=0,
        bash_command="echo '::group::Setting up'; echo step-one; echo step-two; echo '::endgroup::'; echo 'after the group'; exit 3",
    )
"""


def test_a_failed_tasks_log_is_coloured_folded_and_wraps_as_chosen(pages, live_env):
    write_dag(live_env, "ui_log_fold", GROUPED_FAILURE)
    run = do_trigger_dag("ui_log_fold", Actor(name="test"))
    wait_until(
        lambda: TaskInstance.objects.get(dag_run=run, task_id="boom").state == "failed",
        "the task to fail",
    )
    page = pages.open(*person("vera", Role.VIEWER))
    page.goto(f"/dags/ui_log_fold/runs/{run.run_id}/tasks/boom")
    page.wait_for_selector(".log-body .l.lv-error")
    colours = page.evaluate(
        """() => ['.l.lv-error', '.l.lv-info'].map(
            s => getComputedStyle(document.querySelector('.log-body ' + s)).color)"""
    )
    assert colours[0] != colours[1], colours  # ERROR lines stand out from INFO lines
    assert page.locator(".log-body .l.lv-error", has_text="Traceback").count() >= 1

    group = page.locator(".log-body details.lg-group")
    assert group.count() == 1
    assert "Setting up" in group.locator("summary").inner_text()
    step = group.locator(".l", has_text="step-one")
    assert not step.is_visible()  # folded
    assert page.locator(".log-body .l", has_text="INFO - after the group").is_visible()
    group.locator("summary").click()
    step.wait_for(state="visible")

    body = page.locator(".log-body")
    assert "nowrap" not in (body.get_attribute("class") or "")
    page.click("[data-log-toggle='wrap']")
    assert "nowrap" in body.get_attribute("class")
    assert page.get_attribute("[data-log-toggle='wrap']", "aria-pressed") == "false"
    page.reload()
    page.wait_for_selector(".log-body.nowrap .l")  # remembered
    page.click("[data-log-toggle='fullscreen']")
    page.wait_for_selector(".log.fullscreen")
    screenshot(page, "log-folded-fullscreen")
    page.keyboard.press("Escape")
    page.wait_for_selector(".log:not(.fullscreen)")


def test_the_dag_list_takes_a_burst_of_live_updates_without_console_errors(pages, live_env):
    dag = store_dag("ui_busy")
    page = pages.open(*person("vera", Role.VIEWER))
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    # The theme toggle says which mode is active.
    assert page.get_attribute("#theme-toggle", "aria-label") == "Theme: system"
    page.click("#theme-toggle")
    assert page.get_attribute("#theme-toggle", "aria-label") == "Theme: light"
    runs = []
    for i in range(12):
        runs.append(add_run(dag, run_id=f"busy_{i}", states={"extract": "running"}))
        publish({"kind": "run", "dag_id": "ui_busy", "run_id": f"busy_{i}"})
    # The last event's refresh shows every run (the list shows the latest runs as bars).
    page.wait_for_selector("tr[data-dag-id='ui_busy'] .recent-run[data-run-id='busy_11']")
    assert not [e for e in pages.console_errors if "htmx" in e], pages.console_errors
    assert not pages.console_errors, pages.console_errors
