"""The automated accessibility check: axe-core (bundled by axe-playwright-python) runs in each
main page, with data in it, and every violation of impact "serious" or "critical" fails the test,
listed by rule, element and page. Then the layouts: at 1024 px and 1920 px the DAG list, the runs
table and the grid never scroll sideways (screenshots of both widths land in test-artifacts/)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from dagruns.actions.assets import do_sync_asset_references, register_asset_event
from dagruns.actions.audit import Actor
from dagruns.actions.dags import do_set_paused
from dagruns.domain.logs import ti_log_path
from dagruns.domain.roles import Role
from dagruns.models import AssetModel, DagRun
from dagruns.sdk import DAG, Asset, EmptyOperator, serialize_dag
from tests.browser.conftest import person, screenshot
from tests.browser.test_screens import showcase  # noqa: F401  (the pages' data, shared)
from tests.builders import store, ti_of

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = ("serious", "critical")
LAYOUT_WIDTHS = (1024, 1920)
LAYOUT_PAGES = {
    "dag-list": ("/", "tr[data-dag-id='warehouse_daily']"),
    "runs": ("/dags/warehouse_daily/runs", "#runs a[data-link='run']"),
    "grid": ("/dags/warehouse_daily/", "#grid .cell"),
}

FAILED_LOG = """\
[2024-01-04T00:00:20.000+0000] {subprocess.py:93} INFO - Running command: ['bash', '-c', 'load']
[2024-01-04T00:00:21.000+0000] {subprocess.py:93} WARNING - 3 rows skipped
[2024-01-04T00:00:22.000+0000] {taskinstance.py:441} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/dags/warehouse_daily.py", line 12, in load
RuntimeError: products feed is empty
"""


def blocking_violations(axe: Axe, page, name: str) -> list[str]:
    """Each serious or critical violation on `page`: one line per rule and element."""
    results = axe.run(page)
    return [
        f"{name}: {violation['id']} ({violation['impact']}) at {node['target']}: "
        f"{violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
        for node in violation["nodes"]
    ]


def produced_asset() -> AssetModel:
    """An asset with a producing DAG (paused: the scheduler leaves it alone) and one event."""
    orders = Asset("orders", uri="s3://bucket/orders")
    with DAG("orders_feed", start_date=datetime(2024, 1, 1), auto_register=False) as producer:
        EmptyOperator(task_id="make", outlets=[orders])
    do_sync_asset_references(store(producer, paused=True), serialize_dag(producer))
    asset = AssetModel.objects.get(name="orders")
    register_asset_event(asset, extra={"rows": 3}, timestamp=timezone.now())
    return asset


def axe_pages(run_id: str, asset_id: int) -> dict[str, tuple[str, str]]:
    """Each page the check visits: its URL and the element that shows its data has arrived
    (htmx fragments and charts load after the page)."""
    run_url = f"/dags/warehouse_daily/runs/{quote(run_id)}"
    return {
        "home": ("/home/", "#home [data-job-type='scheduler']"),
        "dag-list": ("/", "tr[data-dag-id='warehouse_daily']"),
        "grid": ("/dags/warehouse_daily/", "#grid .cell"),
        "graph": ("/dags/warehouse_daily/graph", "#graph svg .node"),
        "gantt": (f"/dags/warehouse_daily/gantt?run_id={quote(run_id)}", "#gantt .bar"),
        "code": ("/dags/warehouse_daily/code", ".code pre"),
        "calendar": (
            "/dags/warehouse_daily/calendar?year=2024",
            "#calendar .cal-day[data-state='failed']",
        ),
        "durations": ("/dags/warehouse_daily/durations", "#durations svg .chart-bar"),
        "events": ("/dags/warehouse_daily/events", "tr[data-event='paused']"),
        "details": ("/dags/warehouse_daily/details", "main"),
        "runs": ("/dags/warehouse_daily/runs", "#runs a[data-link='run']"),
        "run": (run_url, "#run-details[data-state='failed']"),
        "task-instance": (f"{run_url}/tasks/ingest.products", ".log-body .l.lv-error"),
        "assets": ("/assets/", f"a[href='/assets/{asset_id}/']"),
        "asset": (f"/assets/{asset_id}/", "main"),
    }


def overflows(page, width: int) -> list[str]:
    """The pages (DAG list, runs table, grid) wider than a `width` px viewport, screenshotted."""
    page.set_viewport_size({"width": width, "height": 860})
    found = []
    for name, (url, ready) in LAYOUT_PAGES.items():
        page.goto(url)
        page.wait_for_selector(ready)
        screenshot(page, f"{name}-{width}")
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            found.append(f"{name} at {width} px: {scroll} px wide")
    return found


def test_main_pages_pass_axe_in_both_themes_and_fit_1024_and_1920_px(
    pages,
    showcase,  # noqa: F811
):
    failed = DagRun.objects.get(dag=showcase, state="failed")
    log = ti_log_path(ti_of(failed, "ingest.products"))
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(FAILED_LOG)
    for paused in (True, False):  # entries for the DAG's event log
        do_set_paused("warehouse_daily", paused, Actor(name="ada"))
    views = axe_pages(failed.run_id, produced_asset().pk)
    username, password = person("ada", Role.OP)
    axe = Axe()
    found: list[str] = []
    for dark in (False, True):
        theme = "dark" if dark else "light"
        page = pages.open(username, password, dark=dark)
        for name, (url, ready) in views.items():
            page.goto(url)
            page.wait_for_selector(ready)
            found += blocking_violations(axe, page, f"{name} ({theme})")
        page.goto("/dags/warehouse_daily/")
        page.click("#grid a.cell[data-task-id='ingest.products'][data-state='failed']")
        page.wait_for_selector("#panel .ti-panel")
        found += blocking_violations(axe, page, f"grid task panel ({theme})")
        page.goto("/dags/reporting/")
        page.click(".dag-actions [data-action='trigger']")
        page.wait_for_selector("#modal[open] [data-trigger-form]")
        found += blocking_violations(axe, page, f"trigger-form ({theme})")
    assert not found, "\n".join(found)

    assert not [o for width in LAYOUT_WIDTHS for o in overflows(page, width)]
