"""Screenshots of the main pages, light and dark, at 1280 px: saved as test artifacts for
people to look at (`test-artifacts/<page>.png` and `<page>-dark.png`: home, dag-list, grid,
task-panel, graph, gantt, run, task-log, code, version-diff, calendar, durations,
trigger-errors), and checked for the basics (nothing overflows the viewport sideways)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from dagruns.domain.logs import ti_log_path
from dagruns.domain.roles import Role
from dagruns.models import DagRun, DagVersion
from tests.browser.conftest import person, screenshot
from tests.builders import add_run, store_dag, ti_of

# The failed task's log: a line of each level and a traceback, for the coloured log view.
FAILED_LOG = """\
[2024-01-04T00:00:20.000+0000] {subprocess.py:93} INFO - Running command: ['bash', '-c', 'load']
[2024-01-04T00:00:21.000+0000] {subprocess.py:93} WARNING - 3 rows skipped
[2024-01-04T00:00:22.000+0000] {taskinstance.py:441} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/dags/warehouse_daily.py", line 12, in load
RuntimeError: products feed is empty
"""

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
        if i == 3:
            log = ti_log_path(ti_of(run, "ingest.products"))
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(FAILED_LOG)
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
    # A second version (a trigger rule and the source changed) for the version diff.
    first = dag.latest_version()
    tasks = [
        {**t, "trigger_rule": "all_done"} if t["task_id"] == "notify" else t
        for t in first.serialized["tasks"]
    ]
    DagVersion.objects.create(
        dag=dag,
        version_number=2,
        serialized={**first.serialized, "tasks": tasks},
        structure_hash="v2",
        source_code=first.source_code.replace(
            "# The nightly load.", "# The nightly load, now notifying whatever happened."
        )
        + "    BashOperator(task_id='notify', trigger_rule='all_done', bash_command='echo done')\n",
        fileloc=first.fileloc,
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
    failed = DagRun.objects.get(dag=showcase, state="failed")
    run_url = f"/dags/warehouse_daily/runs/{quote(failed.run_id)}"
    for dark in (False, True):
        suffix = "-dark" if dark else ""
        page = pages.open(username, password, dark=dark)
        screenshot(page, f"dag-list{suffix}")
        page.goto("/home/")
        page.wait_for_selector("#home [data-job-type='scheduler']")
        screenshot(page, f"home{suffix}")
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
        page.goto(run_url)
        page.wait_for_selector("#run-details[data-state='failed']")
        screenshot(page, f"run{suffix}")
        page.goto(f"{run_url}/tasks/ingest.products")
        page.wait_for_selector(".log-body .l.lv-error")
        screenshot(page, f"task-log{suffix}")
        page.goto("/dags/warehouse_daily/code")
        screenshot(page, f"code{suffix}")
        page.goto("/dags/warehouse_daily/code?version=2&base=1")
        page.wait_for_selector(".version-diff [data-diff='task-changed']")
        screenshot(page, f"version-diff{suffix}")
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
