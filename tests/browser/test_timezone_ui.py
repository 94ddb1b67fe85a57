"""The timezone selector in a real browser against the real stack: switching the zone in the
header changes every date on the grid and the run page, a live update (a task ending while the
page is open) arrives in the chosen zone without a reload, and no page logs a console error."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.roles import Role
from dagruns.models import TaskInstance
from tests.browser.conftest import person, screenshot, write_dag
from tests.polling import wait_until

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
# The task runs until the test lets it end, so its end reaches the open page as a live update.
GATED = """
import os
GATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tz_gate.marker")
with DAG("ui_tz", schedule=None, start_date=START) as dag:
    BashOperator(task_id="gate", bash_command=f"while [ ! -f {GATE} ]; do sleep 0.1; done")
"""


def _tokyo(moment) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S") + " JST"


def _tip(page) -> str:
    return page.get_attribute("#grid a.cell[data-task-id='gate']", "data-tip") or ""


def test_switching_the_zone_changes_every_date_and_live_updates_follow(pages, live_env):
    gate = live_env.home / "dags" / "tz_gate.marker"
    gate.unlink(missing_ok=True)
    write_dag(live_env, "ui_tz", GATED)
    run = do_trigger_dag("ui_tz", Actor(name="test"), run_id="tz_run")
    ti = wait_until(
        lambda: TaskInstance.objects.filter(dag_run=run, state="running").first(),
        "the gated task to run",
        timeout=90,
    )
    page = pages.open(*person("tess", Role.USER))
    page.goto("/dags/ui_tz/")
    page.wait_for_selector("#grid a.cell[data-task-id='gate'][data-state='running']")
    assert f"Start: {ti.start_date.strftime('%Y-%m-%d %H:%M:%S')} UTC" in _tip(page)
    assert page.get_attribute("#tz-menu summary", "aria-label") == "Timezone: UTC"

    # Pick a zone: the menu lists the zones the browser knows; type one and press Enter.
    page.click("#tz-menu summary")
    page.wait_for_selector("#tz-names[data-filled='1']", state="attached")
    assert page.locator("#tz-names option").count() > 100
    screenshot(page, "timezone-menu")
    page.fill("#tz-input", "Asia/Tokyo")
    page.press("#tz-input", "Enter")
    page.wait_for_selector("#tz-menu summary[aria-label='Timezone: Asia/Tokyo']")
    page.wait_for_selector("#grid a.cell[data-task-id='gate']")
    assert f"Start: {_tokyo(ti.start_date)}" in _tip(page)
    screenshot(page, "timezone-grid-tokyo")

    # The task ends while the page is open: the cell arrives live, its dates in Tokyo time.
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    page.evaluate("window.__sameDocument = 'yes'")
    gate.touch()
    page.wait_for_selector(
        "#grid a.cell[data-task-id='gate'][data-state='success']", timeout=90_000
    )
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"
    ti.refresh_from_db()
    assert f"End: {_tokyo(ti.end_date)}" in _tip(page)

    # The run page: every date a <time> in Tokyo time, its UTC moment on hover.
    page.goto("/dags/ui_tz/runs/tz_run")
    started = page.locator("#run-details time").first
    started.wait_for()
    assert started.inner_text().endswith(" JST")
    assert "Asia/Tokyo" in (started.get_attribute("title") or "")
    titles = page.locator("#run-details time").evaluate_all("els => els.map(e => e.title)")
    assert titles and all("(UTC+09:00, Asia/Tokyo)" in t for t in titles), titles
    screenshot(page, "timezone-run-page-tokyo")

    # Other pages follow, and back to UTC with one click.
    for path in ("/", "/audit/", "/dags/ui_tz/runs/tz_run/tasks/gate"):
        page.goto(path)
        page.wait_for_selector("main time")
        titles = page.locator("main time[title]").evaluate_all("els => els.map(e => e.title)")
        assert titles and all("Asia/Tokyo" in t for t in titles), (path, titles)
    # The task page's log: each line's time too (no title there: the text says the zone).
    page.wait_for_selector("main .l time")
    stamps = page.locator("main .l time").all_inner_texts()
    assert stamps and all(t.endswith(" JST") for t in stamps), stamps
    page.click("#tz-menu summary")
    page.click("#tz-menu button[name='choice'][value='UTC']")
    page.wait_for_selector("#tz-menu summary[aria-label='Timezone: UTC']")
    titles = page.locator("main time[title]").evaluate_all("els => els.map(e => e.title)")
    assert titles and not any("Asia/Tokyo" in t for t in titles), titles
    assert not pages.console_errors, pages.console_errors
