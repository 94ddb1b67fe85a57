"""The DAG list and the trigger form's JSON mode in a real browser: search as you type, a
state filter and a star, each without a reload and with the URL following; then a run
triggered with an extra conf key through the raw-JSON mode — no console error anywhere."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dagruns.domain.roles import Role
from dagruns.models import DagFavorite, DagRun
from tests.browser.conftest import person
from tests.builders import T0, add_run, store_dag
from tests.polling import wait_until

pytestmark = pytest.mark.browser

PARAMS = {
    "times": {
        "default": 2,
        "description": "How often.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 10},
    },
}


def _listed(page) -> list[str]:
    return page.eval_on_selector_all(
        "#dag-list tr[data-dag-id]", "rows => rows.map(r => r.dataset.dagId)"
    )


def _wait_listed(page, expected: list[str]) -> None:
    wait_until(lambda: _listed(page) == expected, what=f"the list to show {expected}")


def test_search_as_you_type_filter_by_failed_and_star_a_dag(pages, live_env):
    for dag_id, state in [("sales_daily", "failed"), ("sales_hourly", "success"), ("hr", "failed")]:
        add_run(store_dag(dag_id), state=state, when=T0 + timedelta(days=1))
    page = pages.open(*person("vera", Role.VIEWER))
    page.evaluate("window.__sameDocument = 'yes'")
    _wait_listed(page, ["hr", "sales_daily", "sales_hourly"])

    page.locator("#dag-q").press_sequentially("sales", delay=40)  # no button to press
    page.wait_for_url("**/?q=sales**")
    _wait_listed(page, ["sales_daily", "sales_hourly"])

    page.click("[data-filter='last_dag_run_state'] label:has(input[value='failed'])")
    page.wait_for_url(lambda url: "last_dag_run_state=failed" in url and "q=sales" in url)
    _wait_listed(page, ["sales_daily"])
    assert page.locator("#dag-list .list-summary").inner_text().startswith("1 DAG matches")

    page.click("tr[data-dag-id='sales_daily'] button[data-star]")
    page.wait_for_selector("tr[data-dag-id='sales_daily'] button[data-star][aria-pressed='true']")
    assert DagFavorite.objects.filter(dag_id="sales_daily", user__username="vera").exists()
    page.click("[data-filter='last_dag_run_state'] label:has(input[value='all'])")
    page.fill("#dag-q", "")
    page.click("label.fav-filter")
    page.wait_for_url(lambda url: "favorite=true" in url and "q=sales" not in url)
    _wait_listed(page, ["sales_daily"])
    # The last run tells its state and duration in words, not only by its colour.
    bar = page.locator("tr[data-dag-id='sales_daily'] .recent-run").first
    assert "State: failed" in bar.get_attribute("aria-label")
    assert "Duration: 5 min 00 s" in bar.get_attribute("aria-label")
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"
    page.reload()  # the URL alone brings the same list back
    _wait_listed(page, ["sales_daily"])
    assert not pages.console_errors, pages.console_errors


def test_trigger_with_an_extra_key_through_the_json_mode(pages, live_env):
    store_dag("greet", {"hello": []}, params=PARAMS, paused=True)
    page = pages.open(*person("uma", Role.USER))
    page.click("tr[data-dag-id='greet'] [data-action='trigger']")
    page.wait_for_selector("#modal[open] [data-param='times']")
    page.click("#modal button[data-mode='json']")
    editor = page.wait_for_selector("#modal textarea#conf")
    assert json.loads(editor.input_value()) == {"times": 2}

    page.fill("#modal textarea#conf", '{"times": 0, "batch": "b-7"}')
    page.click("#modal [data-action='review-trigger']")
    error = page.wait_for_selector("#modal [data-param-error='times']")
    assert error.inner_text() == "times: Must be at least 1 (you entered 0)."

    page.fill("#modal textarea#conf", '{"times": 3, "batch": "b-7"}')
    page.click("#modal [data-action='review-trigger']")
    page.wait_for_selector("#modal[open] [data-confirm-form]")
    page.click("#modal button[data-confirm]")
    wait_until(lambda: DagRun.objects.filter(dag_id="greet").exists(), what="a run")
    assert DagRun.objects.get(dag_id="greet").conf == {"times": 3, "batch": "b-7"}
    assert not pages.console_errors, pages.console_errors
