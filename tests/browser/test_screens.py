"""Screenshots of the main pages, light and dark, at 1280 px: saved as test artifacts for
people to look at, and checked for the basics (nothing overflows the viewport sideways)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.domain.roles import Role
from dagruns.models import DagRun
from tests.browser.conftest import person, screenshot
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.browser


@pytest.fixture
def showcase(live_env):
    dag = store_dag(
        "warehouse_daily",
        {
            "start": ["ingest.orders", "ingest.customers", "ingest.products"],
            "ingest.orders": ["quality.row_counts"],
            "ingest.customers": ["quality.row_counts"],
            "ingest.products": ["quality.row_counts"],
            "quality.row_counts": ["publish"],
            "publish": ["notify"],
            "notify": [],
        },
        groups={
            "ingest": ["ingest.orders", "ingest.customers", "ingest.products"],
            "quality": ["quality.row_counts"],
        },
        tags=["warehouse", "daily"],
        source="from datetime import datetime\n\nfrom dagruns.sdk import DAG, BashOperator\n\n# The nightly load.\nwith DAG('warehouse_daily', start_date=datetime(2024, 1, 1)) as dag:\n    BashOperator(task_id='start', bash_command='echo start')\n",
    )
    done = dict.fromkeys(
        [
            "start",
            "ingest.orders",
            "ingest.customers",
            "ingest.products",
            "quality.row_counts",
            "publish",
            "notify",
        ],
        "success",
    )
    for i in range(8):
        states = dict(done)
        if i == 3:
            states.update(
                {
                    "ingest.products": "failed",
                    "quality.row_counts": "upstream_failed",
                    "publish": "upstream_failed",
                    "notify": "upstream_failed",
                }
            )
        run = add_run(dag, states=states, state="failed" if i == 3 else "success")
        # Runs of different lengths, each queued a little first, for the duration charts.
        DagRun.objects.filter(pk=run.pk).update(
            queued_at=run.start_date - timedelta(seconds=20 + 10 * i),
            end_date=run.start_date + timedelta(minutes=3 + (i * 7) % 5),
        )
    running = add_run(
        dag,
        states={
            "start": "success",
            "ingest.orders": "success",
            "ingest.customers": "running",
            "ingest.products": "up_for_retry",
        },
    )
    # Started minutes ago (not in 2024, which would dwarf every other bar of the charts).
    DagRun.objects.filter(pk=running.pk).update(
        queued_at=timezone.now() - timedelta(minutes=4),
        start_date=timezone.now() - timedelta(minutes=3),
    )
    store_dag(
        "reporting",
        {"report": []},
        tags=["reports"],
        paused=True,
        params={
            "region": {
                "default": "eu",
                "description": "Where to report on.",
                "schema": {"enum": ["eu", "us"]},
            },
            "days": {
                "default": 7,
                "description": "How many days back.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 90},
            },
            "dry_run": {"default": False, "description": None, "schema": {"type": "boolean"}},
        },
    )
    return dag


def test_screenshots_of_the_main_pages(pages, showcase):
    username, password = person("shots", Role.USER)
    for dark in (False, True):
        suffix = "-dark" if dark else ""
        page = pages.open(username, password, dark=dark)
        screenshot(page, f"dag-list{suffix}")
        page.goto("/dags/warehouse_daily/")
        page.wait_for_selector("#grid .cell")
        screenshot(page, f"grid{suffix}")
        page.click("#grid a.cell[data-task-id='ingest.products'][data-state='failed']")
        page.wait_for_selector("#panel .ti-panel")
        screenshot(page, f"task-panel{suffix}")
        page.goto("/dags/warehouse_daily/graph")
        page.wait_for_selector("#graph svg .node")
        screenshot(page, f"graph{suffix}")
        page.goto("/dags/warehouse_daily/gantt?run_id=scheduled__2024-01-04T00:00:00%2B00:00")
        page.wait_for_selector("#gantt .bar")
        screenshot(page, f"gantt{suffix}")
        page.goto("/dags/warehouse_daily/code")
        screenshot(page, f"code{suffix}")
        page.goto("/dags/warehouse_daily/calendar?year=2024")
        page.wait_for_selector("#calendar .cal-day[data-state='failed']")
        screenshot(page, f"calendar{suffix}")
        page.goto("/dags/warehouse_daily/durations?task_id=ingest.orders")
        page.wait_for_selector("#durations svg[data-chart='task'] .chart-bar")
        screenshot(page, f"durations{suffix}")
        page.goto("/dags/reporting/")
        page.click(".dag-actions [data-action='trigger']")
        page.wait_for_selector("#modal[open] [data-trigger-form]")
        page.fill("input[name='param:days']", "365")
        page.click("[data-action='review-trigger']")
        page.wait_for_selector("#modal .field-error")
        screenshot(page, f"trigger-errors{suffix}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280
