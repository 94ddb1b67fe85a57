"""The run page and the home page in a real browser against the real stack: clear only the
failed task of a failed run from its page and watch the run's state change without a reload,
then see the home page — with no console error anywhere."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.roles import Role
from dagruns.models import DagRun, TaskInstance
from tests.browser.conftest import person, screenshot, write_dag
from tests.polling import wait_until

pytestmark = pytest.mark.browser

FAILS_ONCE = """
import os
MARKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_page.marker")
with DAG("ui_run_page", schedule=None, start_date=START) as dag:
    BashOperator(task_id="fine", bash_command="echo fine")
    BashOperator(
        task_id="boom",
        retries=0,
        bash_command=f"if [ -f {MARKER} ]; then echo recovered; else touch {MARKER}; exit 1; fi",
    )
"""


def test_clear_only_the_failed_task_from_the_run_page_and_watch_the_run_succeed(pages, live_env):
    (live_env.home / "dags" / "run_page.marker").unlink(missing_ok=True)
    write_dag(live_env, "ui_run_page", FAILS_ONCE)
    run = do_trigger_dag("ui_run_page", Actor(name="test"), run_id="to_fix")
    wait_until(
        lambda: DagRun.objects.get(pk=run.pk).state == "failed", "the run to fail", timeout=90
    )
    page = pages.open(*person("uma", Role.USER))
    page.goto("/dags/ui_run_page/runs")
    page.click("#runs a[data-link='run']")
    page.wait_for_selector("#run-details[data-state='failed']")
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    page.evaluate("window.__sameDocument = 'yes'")
    assert page.locator("#run-details [data-count-state='failed']").count() == 1
    screenshot(page, "run-page-failed")

    page.click("#run-details [data-action='clear-run']")
    page.wait_for_selector("#modal[open] .change-list[data-change-count='2']")
    page.check("#modal input[name='only_failed']")
    page.wait_for_selector("#modal[open] .change-list[data-change-count='1']")
    assert page.locator("#modal .change-list tr[data-task-id='boom']").count() == 1
    page.click("#modal button[data-confirm]")
    page.wait_for_selector("#run-details[data-state='success']", timeout=90_000)
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"
    assert page.locator("#run-details [data-count-state='success'] strong").inner_text() == "2"
    fine = TaskInstance.objects.get(dag_run=run, task_id="fine")
    assert fine.try_number == 1  # not cleared: only the failed task ran again
    screenshot(page, "run-page-cleared")

    page.goto("/home/")
    page.wait_for_selector("#home [data-job-type='scheduler'][data-status='healthy']")
    assert page.inner_text("#home [data-field='failed-runs']") == "0"
    screenshot(page, "home-healthy")
    assert not pages.console_errors, pages.console_errors
