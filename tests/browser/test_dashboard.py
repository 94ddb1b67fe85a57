"""The dashboard in a real browser against the real stack (uvicorn + scheduler subprocesses):
log in, trigger from the UI, watch cells and nodes change without a reload, read a failed
task's log, clear it and watch it run again, pause a DAG, and a Viewer who sees no action
buttons and is refused when posting anyway."""

from __future__ import annotations

import shlex

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.task_instances import do_mark_state
from dagruns.domain.roles import Role
from dagruns.models import AuditEvent, DagModel, DagRun, TaskInstance
from dagruns.notify.events import publish
from tests.browser.conftest import person, screenshot, write_dag
from tests.builders import add_run, store_dag
from tests.polling import wait_until

pytestmark = pytest.mark.browser

FLOW = """
with DAG("ui_flow", schedule=None, start_date=START, tags=["ui"]) as dag:
    extract = BashOperator(task_id="extract", bash_command="sleep 1; echo extracted")
    with TaskGroup("work") as work:
        transform = BashOperator(task_id="transform", bash_command="sleep 2; echo transformed")
        check = BashOperator(task_id="check", bash_command="sleep 1; echo checked")
    load = BashOperator(task_id="load", bash_command="sleep 1; echo loaded")
    extract >> work >> load
"""


def mark_no_reload(page) -> None:
    page.evaluate("window.__sameDocument = 'yes'")


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"


def wait_socket(page) -> None:
    page.wait_for_selector("#live[data-ws-state='open']", state="attached")


def test_trigger_from_the_ui_and_watch_grid_and_graph_change_live(pages, live_env):
    write_dag(live_env, "ui_flow", FLOW)
    page = pages.open(*person("uma", Role.USER))
    page.goto("/dags/ui_flow/")
    wait_socket(page)
    mark_no_reload(page)
    page.click(".dag-actions [data-action='trigger']")
    page.wait_for_selector("#modal[open] [data-trigger-form]")
    page.click("[data-action='review-trigger']")
    page.wait_for_selector("#modal[open] .change-list")
    assert "4 task instances will be created" in page.inner_text("#modal .change-head")
    page.click("#modal button[data-confirm]")
    page.wait_for_selector("#grid a.cell[data-task-id='extract']")
    page.wait_for_selector(
        "#grid a.cell[data-task-id='work.transform'][data-state='running']", timeout=60_000
    )
    page.wait_for_selector(
        "#grid a.cell[data-task-id='load'][data-state='success']", timeout=60_000
    )
    page.wait_for_selector("#grid .runbar[data-state='success']", timeout=30_000)
    assert_no_reload(page)
    assert DagRun.objects.get(dag_id="ui_flow").triggered_by == "ui"
    assert AuditEvent.objects.filter(event="trigger", owner="uma").exists()
    screenshot(page, "flow-grid")

    # A second run, watched on the graph tab.
    do_trigger_dag("ui_flow", Actor(name="test"), run_id="second")
    page.goto("/dags/ui_flow/graph")
    wait_socket(page)
    mark_no_reload(page)
    load = "#graph svg .node[data-run-id='second'][data-task-id='load']"
    assert page.get_attribute(load, "data-state") != "success"
    page.wait_for_selector(
        "#graph svg .node[data-run-id='second'][data-task-id='work.transform'][data-state='running']",
        timeout=60_000,
    )
    screenshot(page, "flow-graph-running")
    page.wait_for_selector(load + "[data-state='success']", timeout=60_000)
    assert_no_reload(page)
    screenshot(page, "flow-graph")
    page.goto("/dags/ui_flow/gantt?run_id=second")
    page.wait_for_selector("#gantt .bar.critical")
    screenshot(page, "flow-gantt")


FAILS = """
import os
MARKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boom.marker")
with DAG("ui_fails", schedule=None, start_date=START) as dag:
    BashOperator(
        task_id="boom",
        retries=0,
        bash_command=f"if [ -f {MARKER} ]; then echo recovered; else echo 'something broke <b>'; touch {MARKER}; exit 1; fi",
    )
"""


def test_open_a_failed_tasks_log_clear_it_and_watch_it_run_again(pages, live_env):
    (live_env.home / "dags" / "boom.marker").unlink(missing_ok=True)
    write_dag(live_env, "ui_fails", FAILS)
    run = do_trigger_dag("ui_fails", Actor(name="test"))
    wait_until(
        lambda: TaskInstance.objects.get(dag_run=run, task_id="boom").state == "failed",
        "the task to fail",
    )
    page = pages.open(*person("uma", Role.USER))
    page.goto("/dags/ui_fails/")
    wait_socket(page)
    mark_no_reload(page)
    page.click("#grid a.cell[data-task-id='boom'][data-state='failed']")
    page.wait_for_selector("#panel .log-body .l")
    assert "something broke <b>" in page.inner_text("#panel .log-body")
    screenshot(page, "failed-task-panel")
    page.click("#panel [data-action='clear']")
    page.wait_for_selector("#modal[open] .change-list")
    assert page.locator("#modal .change-list tr[data-task-id='boom']").count() == 1
    page.click("#modal button[data-confirm]")
    page.wait_for_selector(
        "#grid a.cell[data-task-id='boom'][data-state='success']", timeout=60_000
    )
    page.wait_for_selector("#panel .log-tabs [data-try='2']", timeout=30_000)
    page.click("#panel .log-tabs [data-try='2']")
    page.wait_for_function(
        # A function, not an expression: Playwright polls an expression with eval(), which
        # the page's Content-Security-Policy forbids.
        "() => document.querySelector('#panel .log-body') && document.querySelector('#panel .log-body').innerText.includes('recovered')"
    )
    assert_no_reload(page)
    screenshot(page, "task-panel-after-clear")


def test_pause_a_dag_from_the_list(pages, live_env):
    store_dag("ui_pause")
    page = pages.open(*person("uma", Role.USER))
    page.click("tr[data-dag-id='ui_pause'] button[data-action='pause']")
    page.wait_for_selector("#modal[open] [data-pause-effect]")  # the dashboard's dialog
    page.click("#modal button[data-confirm]")
    page.wait_for_selector("tr[data-dag-id='ui_pause'] [data-paused='true']")
    assert DagModel.objects.get(dag_id="ui_pause").is_paused
    assert AuditEvent.objects.filter(event="paused", dag_id="ui_pause", owner="uma").exists()


def test_a_viewer_sees_no_action_buttons_and_is_refused_when_posting(pages, live_env):
    dag = store_dag("ui_view")
    run = add_run(dag, states={"extract": "failed"}, state="failed")
    page = pages.open(*person("vera", Role.VIEWER))
    for path in [
        "/",
        "/dags/ui_view/",
        "/dags/ui_view/runs",
        f"/dags/ui_view/runs/{run.run_id}/tasks/extract",
    ]:
        page.goto(path)
        assert page.locator("[data-action]").count() == 0, path
    page.goto("/dags/ui_view/")
    page.click("#grid a.cell[data-task-id='extract']")
    page.wait_for_selector("#panel .ti-panel")
    assert page.locator("#panel [data-action]").count() == 0
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for path, form in [
        ("/dags/ui_view/pause", {"paused": "1"}),
        ("/dags/ui_view/clear", {"run_id": run.run_id, "task_id": "extract", "confirm": "1"}),
        ("/dags/ui_view/trigger", {"confirm": "1", "conf_json": "{}"}),
    ]:
        response = page.request.post(
            path, form=form, headers={"X-CSRFToken": token, "Referer": live_env.url + "/"}
        )
        assert response.status == 403, path
    assert not DagModel.objects.get(dag_id="ui_view").is_paused
    assert TaskInstance.objects.get(task_id="extract").state == "failed"
    assert DagRun.objects.filter(dag_id="ui_view").count() == 1


def test_a_change_made_in_another_process_reaches_the_open_page_at_once(pages, live_env):
    dag = store_dag("ui_push")
    run = add_run(dag, states={"extract": "running"})
    page = pages.open(*person("vera", Role.VIEWER))
    page.goto("/dags/ui_push/")
    wait_socket(page)
    mark_no_reload(page)
    cell = "#grid a.cell[data-task-id='extract']"
    assert page.get_attribute(cell, "data-state") == "running"
    ti = TaskInstance.objects.get(dag_run=run, task_id="extract")
    do_mark_state([ti], "success", Actor(name="test"))
    publish(
        {
            "kind": "ti",
            "dag_id": "ui_push",
            "run_id": run.run_id,
            "task_id": "extract",
            "try_number": 1,
        }
    )
    # Pushed, not polled: with the socket open the page polls only every 30 s after its load,
    # and this waits at most 15 s after a load that took a few.
    page.wait_for_selector(cell + "[data-state='success']", timeout=15_000)
    assert_no_reload(page)


def test_the_page_reconnects_and_catches_up_after_the_server_restarts(pages, live_env):
    dag = store_dag("ui_reconnect")
    run = add_run(dag, states={"extract": "running"})
    page = pages.open(*person("vera", Role.VIEWER))
    page.goto("/dags/ui_reconnect/")
    wait_socket(page)
    mark_no_reload(page)
    live_env.stop_api()
    # Changed while the server is away (no event can reach the page): only the catch-up on
    # reconnecting can show it. Changing it after the restart instead would race the page's
    # reconnection, which may come first and find nothing new.
    TaskInstance.objects.filter(dag_run=run, task_id="extract").update(state="failed")
    live_env.start_api()
    page.wait_for_selector(
        "#grid a.cell[data-task-id='extract'][data-state='failed']", timeout=60_000
    )
    assert_no_reload(page)


# Half the ticks, then a wait for the test's go-ahead, then the rest: the page is open on a
# running try however slow the machine, and the second half can only arrive by streaming.
TICKS = """
with DAG("ui_ticks", schedule=None, start_date=START) as dag:
    BashOperator(
        task_id="ticker",
        bash_command=(
            "for i in 1 2 3 4; do echo tick $i; done; "
            "while [ ! -e {release} ]; do sleep 0.05; done; "
            "for i in 5 6 7 8; do echo tick $i; sleep 0.2; done"
        ),
    )
"""


def test_the_log_of_a_running_try_streams_new_lines(pages, live_env):
    release = live_env.home / "ticks.release"
    release.unlink(missing_ok=True)
    write_dag(live_env, "ui_ticks", TICKS.format(release=shlex.quote(str(release))))
    run = do_trigger_dag("ui_ticks", Actor(name="test"))
    wait_until(
        lambda: TaskInstance.objects.get(dag_run=run, task_id="ticker").state == "running",
        "the task to run",
    )
    page = pages.open(*person("vera", Role.VIEWER))
    page.goto(f"/dags/ui_ticks/runs/{run.run_id}/tasks/ticker")
    wait_socket(page)
    mark_no_reload(page)
    page.wait_for_selector(".log-tail", state="attached")
    page.wait_for_function(
        "() => document.querySelector('.log-body').innerText.includes('tick 4')", timeout=30_000
    )
    release.touch()
    page.wait_for_function(
        "() => document.querySelector('.log-body').innerText.includes('tick 8')", timeout=30_000
    )
    # When the task ends the header follows: no live dot, the try's swatch in its end state.
    page.wait_for_selector(".log-tabs [data-try='1'] .swatch.s-success", timeout=30_000)
    page.wait_for_selector(".log-bar .live-dot", state="detached")
    assert_no_reload(page)
