"""A backfill from the DAG page in a real browser against the real stack: the form's review
lists every date before anything starts, confirming lands on the Backfills tab, and its runs'
progress arrives there live (no reload) until every date succeeded."""

from __future__ import annotations

import pytest

from dagruns.domain.roles import Role
from dagruns.models import Backfill, DagRun
from tests.browser.conftest import person, screenshot, write_dag

pytestmark = pytest.mark.browser

DAILY = """
with DAG("ui_backfill", schedule="@daily", start_date=START, catchup=False) as dag:
    BashOperator(task_id="work", bash_command="sleep 0.5; echo {{ ds }}")
"""


def test_backfill_from_the_dag_page_reviews_the_dates_then_shows_progress_live(pages, live_env):
    write_dag(live_env, "ui_backfill", DAILY)
    page = pages.open(*person("bea", Role.USER))
    page.goto("/dags/ui_backfill/runs")
    page.click(".dag-actions [data-action='backfill']")
    page.wait_for_selector("#modal[open] [data-backfill-form]")
    page.fill("#bf-from", "2024-01-01T00:00")
    page.fill("#bf-to", "2024-01-03T00:00")
    page.fill("#bf-max", "1")
    page.click("[data-action='review-backfill']")
    page.wait_for_selector("#modal[open] [data-backfill-review]")
    outcomes = page.eval_on_selector_all(
        "#modal tr[data-outcome]", "rows => rows.map(r => r.dataset.outcome)"
    )
    assert outcomes == ["create", "create", "create"]
    assert not Backfill.objects.exists()  # nothing starts before it is confirmed
    screenshot(page, "backfill-review")
    page.click("#modal button[data-confirm]")
    page.wait_for_url("**/dags/ui_backfill/backfills")
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    page.evaluate("window.__sameDocument = 'yes'")
    page.wait_for_selector(
        "#backfill tr[data-logical-date^='2024-01-03'][data-state='success']", timeout=90_000
    )
    # The backfill completes on the scheduler's next tick and says so with an event; events are
    # best effort (a busy machine's local bus may drop one), and the page's fallback poll of
    # active regions comes every 30 s: wait past it, so a lost event cannot fail the test.
    page.wait_for_selector("#backfill[data-active='0']", timeout=75_000)
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"
    screenshot(page, "backfill-progress")
    runs = DagRun.objects.filter(backfill__isnull=False)
    assert runs.count() == 3 and set(runs.values_list("state", flat=True)) == {"success"}
