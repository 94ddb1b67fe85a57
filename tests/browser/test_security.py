"""Script payloads in every field a user or a task controls, on every page, in a real browser:
none executes — with the Content-Security-Policy enforced, and with the browser told to ignore
it (escaping alone must hold) — and, under the policy, no page logs a console error or a
policy violation (the dashboard needs no exception from it)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.utils import timezone

from dagruns.actions.xcoms import do_set_xcom
from dagruns.domain import logs
from dagruns.domain.roles import Role
from dagruns.models import (
    AuditEvent,
    Connection,
    DagImportError,
    Pool,
    TaskInstance,
    Variable,
)
from tests.browser.conftest import person
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.browser

# Each part sets window.__xss if it ever runs: an event handler, a script, an SVG onload, an
# attribute break-out, and a javascript: URL.
PAYLOAD = (
    "<img src=x onerror=\"window.__xss='img'\">"
    "<script>window.__xss='script'</script>"
    "\"'><svg onload=\"window.__xss='svg'\">"
    "javascript:window.__xss='url'"
)
DAG_ID = "xss" + PAYLOAD
TASK_ID = "t" + PAYLOAD
RUN_ID = "run" + PAYLOAD
# doc_md is Markdown: raw HTML, javascript: links and images on top of the payload.
MARKDOWN_PAYLOAD = (
    f"{PAYLOAD}\n\n[x](javascript:window.__xss='md') ![i](javascript:window.__xss='img2')"
)


@pytest.fixture
def hostile(live_env):
    """Every user- and task-controlled field holds the payload."""
    dag = store_dag(
        DAG_ID,
        {TASK_ID: ["load"], "load": []},
        tags=[PAYLOAD[:90]],
        params={"who": {"default": PAYLOAD, "description": PAYLOAD, "schema": {"type": "string"}}},
        source=f"# {PAYLOAD}\n",
        paused=True,
        task_settings={"load": {"doc_md": MARKDOWN_PAYLOAD, "owner": PAYLOAD}},
    )
    version = dag.versions.get()
    version.serialized = {
        **version.serialized,
        "doc_md": MARKDOWN_PAYLOAD,
        "owner_links": {PAYLOAD: "javascript://x%0awindow.__xss='owner'"},
    }
    version.save(update_fields=["serialized"])
    dag.owners = PAYLOAD
    dag.save(update_fields=["owners"])
    run = add_run(
        dag,
        run_id=RUN_ID,
        states={TASK_ID: "success", "load": "failed"},
        state="failed",
        conf={"k": PAYLOAD, PAYLOAD: 1},
    )
    run.note = PAYLOAD
    run.save(update_fields=["note"])
    ti = TaskInstance.objects.get(dag_run=run, task_id="load")
    ti.note = PAYLOAD
    ti.rendered_fields = {"bash_command": PAYLOAD}
    ti.hostname = PAYLOAD
    ti.save(update_fields=["note", "rendered_fields", "hostname"])
    do_set_xcom(run, "load", PAYLOAD, {"v": PAYLOAD})
    do_set_xcom(run, "load", "return_value", PAYLOAD)
    logs.append_lines(logs.ti_log_path(ti), [f"line {PAYLOAD}", PAYLOAD])
    DagImportError.objects.create(
        filename=f"/dags/{PAYLOAD}.py",
        message=PAYLOAD,
        stack_trace=PAYLOAD,
        timestamp=timezone.now(),
    )
    AuditEvent.objects.create(
        event="trigger", owner=PAYLOAD, dag_id=DAG_ID, run_id=RUN_ID, extra={"conf": PAYLOAD}
    )
    variable = Variable(key="xss_var", description=PAYLOAD)
    variable.val = PAYLOAD
    variable.save()
    conn = Connection(
        conn_id="xss_conn", conn_type="http", host=PAYLOAD, login=PAYLOAD, description=PAYLOAD
    )
    conn.extra = {"k": PAYLOAD}
    conn.save()
    Pool.objects.create(name="xss_pool", slots=2, description=PAYLOAD)
    return dag, run, ti, variable, conn


def _pages(run, ti, variable, conn) -> list[str]:
    dag = f"/dags/{quote(DAG_ID, safe='')}/"
    run_q = "?run_id=" + quote(run.run_id, safe="")
    ti_path = f"{dag}runs/{quote(run.run_id, safe='')}/tasks/load"
    return [
        "/",
        dag,
        dag + "graph" + run_q,
        dag + "gantt" + run_q,
        dag + "code",
        dag + "tasks",
        dag + "details",
        dag + "runs",
        dag + "calendar",
        dag + "durations",
        dag + "events?runner=1",
        ti_path,
        ti_path + "/logs/1",
        ti_path + "/logs/1?q=script",
        "/import-errors/",
        "/audit/",
        "/admin/",
        "/admin/dagruns/variable/",
        f"/admin/dagruns/variable/{variable.pk}/change/",
        "/admin/dagruns/connection/",
        f"/admin/dagruns/connection/{conn.pk}/change/",
        "/admin/dagruns/pool/",
        "/api/v2/docs",
    ]


def _assert_nothing_ran(page, where: str) -> None:
    assert page.evaluate("window.__xss") is None, f"a payload ran on {where}"


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["under-csp", "escaping-alone"])
def test_no_payload_runs_on_any_page(pages, hostile, bypass_csp):
    dag, run, ti, variable, conn = hostile
    username, password = person("mallory", Role.OP)
    page = pages.open(username, password, bypass_csp=bypass_csp)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    for path in _pages(run, ti, variable, conn):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        _assert_nothing_ran(page, path)

    # What htmx brings in: the task panel from the grid, the trigger form and its review.
    page.goto(f"/dags/{quote(DAG_ID, safe='')}/")
    page.click("#grid a.cell[data-state='failed']")
    page.wait_for_selector("#panel .ti-panel")
    _assert_nothing_ran(page, "the task panel")
    page.click(".dag-actions [data-action='trigger']")
    page.wait_for_selector("#modal[open] [data-trigger-form]")
    page.click("[data-action='review-trigger']")
    page.wait_for_selector("#modal[open] [data-confirm-form]")
    _assert_nothing_ran(page, "the trigger review")

    assert dialogs == []
    if not bypass_csp:
        assert pages.console_errors == [], pages.console_errors
