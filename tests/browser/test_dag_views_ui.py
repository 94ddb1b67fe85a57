"""The calendar, durations and events tabs in a real browser against the real stack: each
page's tooltips, links and filters work, and no page logs a console error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.tries import RUNNER_ACTOR
from dagruns.domain.roles import Role
from dagruns.models import DagRun, TaskInstance
from dagruns.notify.events import publish
from tests.browser.conftest import person
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.browser

DAY = datetime(2024, 4, 10, 6, tzinfo=UTC)


def test_calendar_days_tell_their_runs_and_lead_to_them(pages, live_env):
    dag = store_dag("cal_ui")
    add_run(dag, "ok_run", state="success", when=DAY)
    add_run(dag, "bad_run", state="failed", when=DAY + timedelta(hours=2))
    page = pages.open(*person("cal", Role.VIEWER))
    page.goto("/dags/cal_ui/")
    page.click("nav.tabs a[href='/dags/cal_ui/calendar']")
    page.wait_for_selector("#calendar .calendar")
    # A run made now shows on today's square without a reload (the page's live socket).
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")
    now = timezone.now()
    add_run(dag, "live_run", state="running", when=now)
    publish({"kind": "run", "dag_id": "cal_ui", "run_id": "live_run"})
    page.wait_for_selector(
        f"#calendar a.cal-day[data-date='{now.date().isoformat()}'][data-state='running']",
        timeout=15_000,
    )
    year = int(page.get_attribute("#calendar h2", "data-year"))
    page.click("#calendar [data-action='prev-year']")
    page.wait_for_selector(f"#calendar h2[data-year='{year - 1}']")
    page.goto("/dags/cal_ui/calendar?year=2024")
    day = page.locator("#calendar a.cal-day[data-date='2024-04-10']")
    assert day.get_attribute("data-state") == "failed"
    day.hover()
    page.wait_for_selector("#tip:not([hidden])")
    assert page.inner_text("#tip") == "2024-04-10\nfailed: 1\nsuccess: 1"
    day.click()
    page.wait_for_selector("#runs tr[data-run-id='bad_run']")
    assert page.locator("#runs tr[data-run-id]").count() == 2
    assert not pages.console_errors, pages.console_errors


def test_duration_charts_show_each_run_and_task_and_lead_to_them(pages, live_env):
    dag = store_dag("dur_ui")
    for i in range(3):
        run = add_run(dag, f"run_{i}", state="success", when=DAY + timedelta(days=i))
        DagRun.objects.filter(pk=run.pk).update(end_date=run.start_date + timedelta(minutes=i + 1))
    TaskInstance.objects.filter(dag_id="dur_ui", task_id="load").update(
        state="success", start_date=DAY, end_date=DAY + timedelta(seconds=42)
    )
    page = pages.open(*person("dur", Role.VIEWER))
    page.goto("/dags/dur_ui/durations")
    bars = page.locator("#durations svg[data-chart='runs'] a.chart-bar")
    assert bars.count() == 3
    bars.nth(2).hover()
    page.wait_for_selector("#tip:not([hidden])")
    assert "run_2" in page.inner_text("#tip") and "Running: 3 min 00 s" in page.inner_text("#tip")
    page.click("#durations tr[data-task-id='load'] a")
    page.wait_for_selector("#durations tr.selected[data-task-id='load']")
    assert "Running: 42.0 s" in page.get_attribute(
        "#durations svg[data-chart='task'] a.chart-bar >> nth=0", "data-tip"
    )
    page.click("#durations svg[data-chart='task'] a.chart-bar >> nth=0")
    page.wait_for_url("**/dags/dur_ui/runs/run_0/tasks/load")
    assert not pages.console_errors, pages.console_errors


def test_a_dags_events_hide_the_task_runner_until_asked(pages, live_env):
    store_dag("ev_ui")
    store_dag("ev_other")
    record(Actor(name="ops"), "paused", dag_id="ev_ui")
    record(RUNNER_ACTOR, "success", dag_id="ev_ui", run_id="r1", task_id="load")
    record(Actor(name="ops"), "paused", dag_id="ev_other")
    page = pages.open(*person("ev", Role.VIEWER))
    page.goto("/dags/ev_ui/events")
    assert page.locator("tr[data-event]").count() == 1
    assert page.get_attribute("tr[data-event]", "data-owner") == "ops"
    page.check("input[name='runner']")
    page.click("[data-event-filters] button[type='submit']")
    page.wait_for_selector("tr[data-owner='task_runner']")
    assert page.locator("tr[data-event]").count() == 2
    page.select_option("select[name='event']", "success")
    page.click("[data-event-filters] button[type='submit']")
    page.wait_for_url("**event=success**")
    assert page.locator("tr[data-event]").count() == 1
    assert not pages.console_errors, pages.console_errors
