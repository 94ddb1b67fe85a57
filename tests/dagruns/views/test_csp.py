"""The Content-Security-Policy: every HTML page carries it, and nothing the dashboard sends
needs an exception from it (no inline script or style, no event-handler attributes, no eval
features of htmx, everything from this site)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from dagruns.domain import logs
from dagruns.models import TaskInstance
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
POLICY = settings.ORCH.csp

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:|hx-on|hx-vars|js:", re.I)


def test_the_default_policy_allows_nothing_inline_and_no_eval():
    directives = dict(part.strip().split(" ", 1) for part in POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in POLICY


@pytest.mark.parametrize(
    "path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html"))
)
def test_no_template_needs_an_exception_from_the_policy(path):
    text = (ROOT / path).read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>"
    assert not INLINE_STYLE.search(text), "inline style"
    assert not HANDLER.search(text), "event handler or eval feature"


def test_htmx_is_configured_not_to_inject_styles_or_eval():
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base and '"allowEval": false' in base
    assert '"attributesToSettle": ["class", "width", "height"]' in base  # not "style"


def test_every_page_carries_the_policy(viewer, user, operator):
    dag = store_dag("etl", {"extract": ["load"], "load": []})
    run = add_run(dag, run_id="r1", states={"extract": "success"})
    ti = TaskInstance.objects.get(dag_run=run, task_id="extract")
    logs.append_lines(logs.ti_log_path(ti), ["hello"])
    base = "/dags/etl/"
    pages = [
        (viewer, "/"),
        (viewer, base),
        (viewer, base + "graph"),
        (viewer, base + "gantt"),
        (viewer, base + "code"),
        (viewer, base + "tasks"),
        (viewer, base + "details"),
        (viewer, base + "calendar"),
        (viewer, base + "durations"),
        (viewer, base + "events"),
        (viewer, base + "runs"),
        (viewer, f"{base}runs/{run.run_id}/tasks/extract"),
        (viewer, f"{base}runs/{run.run_id}/tasks/extract/logs/1"),
        (viewer, "/import-errors/"),
        (viewer, "/audit/"),
        (user, base + "trigger"),
        (operator, "/admin/"),
        (operator, "/admin/dagruns/variable/"),
        (viewer, "/api/v2/docs"),
    ]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == POLICY, path


def test_the_login_page_and_errors_carry_it_too(client):
    assert client.get("/login/")["Content-Security-Policy"] == POLICY
    assert client.get("/no/such/page/")["Content-Security-Policy"] == POLICY


def test_json_answers_do_not_need_it(viewer):
    response = viewer.get("/api/v2/version")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_an_empty_setting_turns_it_off(viewer, orch_settings):
    orch_settings.csp = ""
    assert "Content-Security-Policy" not in viewer.get("/")
