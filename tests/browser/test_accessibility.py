"""The automated accessibility check: axe-core (bundled by axe-playwright-python) runs in each
main page, with data in it, and in each kind of modal dialog (trigger form, its errors and
confirmation, pause, clear and mark of a task and of a run); every violation of impact
"serious" or "critical" fails the test, listed by rule, element and page. Then the layouts: at 1024 px and 1920 px the DAG list, the runs
table and the grid never scroll sideways (screenshots of both widths land in test-artifacts/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from dagruns.actions.assets import do_sync_asset_references, register_asset_event
from dagruns.actions.audit import Actor
from dagruns.actions.dags import do_set_paused
from dagruns.domain.roles import Role
from dagruns.models import AssetModel, DagRun
from dagruns.sdk import DAG, Asset, EmptyOperator, serialize_dag
from tests.browser.conftest import person, screenshot
from tests.browser.test_screens import showcase  # noqa: F401  (the pages' data, shared)
from tests.builders import store

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = ("serious", "critical")
# Rules that fail the check whatever their impact: the DAG list's run-bar links once took
# role="listitem", which a link may not (axe rates it "minor").
BLOCKING_RULES = ("aria-allowed-role",)
LAYOUT_WIDTHS = (1024, 1920)
LAYOUT_PAGES = {
    "dag-list": ("/", "tr[data-dag-id='warehouse_daily']"),
    "runs": ("/dags/warehouse_daily/runs", "#runs a[data-link='run']"),
    "grid": ("/dags/warehouse_daily/", "#grid .cell"),
}


def blocking_violations(axe: Axe, page, name: str) -> list[str]:
    """Each serious or critical violation on `page`, and each of a blocking rule: one line per
    rule and element."""
    results = axe.run(page)
    return [
        f"{name}: {violation['id']} ({violation['impact']}) at {node['target']}: "
        f"{violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS or violation["id"] in BLOCKING_RULES
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


@dataclass(frozen=True)
class Dialog:
    """A modal the check opens: the page it starts from, the steps that get there (`click`,
    `wait` for, or `fill` a selector), and the element that shows it is open."""

    url: str
    steps: tuple[tuple[str, ...], ...]
    ready: str


def dialogs(run_id: str) -> dict[str, Dialog]:
    """Every kind of modal: the trigger form (fields, its errors, its confirmation), the pause
    confirmation, and the confirm dialogs of clear and mark, of a task and of a whole run."""
    run_url = f"/dags/warehouse_daily/runs/{quote(run_id)}"
    panel = (
        ("click", "#grid a.cell[data-task-id='ingest.products'][data-state='failed']"),
        ("wait", "#panel .ti-panel"),
    )
    trigger = ("click", ".dag-actions [data-action='trigger']")
    return {
        "trigger-form": Dialog("/dags/reporting/", (trigger,), "#modal[open] [data-trigger-form]"),
        "trigger-errors": Dialog(
            "/dags/reporting/",
            (
                trigger,
                ("fill", "input[name='param:days']", "365"),
                ("click", "[data-action='review-trigger']"),
            ),
            "#modal[open] .field-error",
        ),
        "trigger-confirm": Dialog(
            "/dags/reporting/",
            (trigger, ("click", "[data-action='review-trigger']")),
            "#modal[open] form[data-confirm-form] [data-confirm]",
        ),
        "pause-confirm": Dialog(
            "/",
            (("click", "tr[data-dag-id='warehouse_daily'] button[data-action='pause']"),),
            "#modal[open] [data-pause-effect]",
        ),
        "clear-task": Dialog(
            "/dags/warehouse_daily/",
            (*panel, ("click", "#panel [data-action='clear']")),
            CHANGE_LIST,
        ),
        "mark-task-success": Dialog(
            "/dags/warehouse_daily/",
            (*panel, ("click", "#panel [data-action='mark-success']")),
            CHANGE_LIST,
        ),
        "clear-run": Dialog(
            run_url, (("click", "#run-details [data-action='clear-run']"),), CHANGE_LIST
        ),
        "mark-run-success": Dialog(
            run_url, (("click", "#run-details [data-action='run-success']"),), CHANGE_LIST
        ),
    }


CHANGE_LIST = "#modal[open] .change-list"


def open_dialog(page, dialog: Dialog) -> None:
    page.goto(dialog.url)
    for action, selector, *value in dialog.steps:
        if action == "fill":
            page.fill(selector, *value)
        elif action == "wait":
            page.wait_for_selector(selector)
        else:
            page.click(selector)
    page.wait_for_selector(dialog.ready)


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
    failed = DagRun.objects.get(dag=showcase, state="failed")  # its failed task has a log
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
        for name, dialog in dialogs(failed.run_id).items():
            open_dialog(page, dialog)
            found += blocking_violations(axe, page, f"{name} dialog ({theme})")
    assert not found, "\n".join(found)
    assert not pages.console_errors, pages.console_errors  # on every page and dialog

    assert not [o for width in LAYOUT_WIDTHS for o in overflows(page, width)]
