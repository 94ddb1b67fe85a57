"""Actions from the UI: each shows exactly what will change, changes it through the same
action the CLI and REST API use on confirmation, and lands in the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dagruns.models import AuditEvent, DagRun, TaskInstance
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

PARAMS = {
    "name": {
        "default": "world",
        "description": "Who to greet.",
        "schema": {"type": "string", "minLength": 1},
    },
    "times": {
        "default": 2,
        "description": "How often.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "loud": {"default": False, "description": None, "schema": {"type": "boolean"}},
    "color": {
        "default": "green",
        "description": None,
        "schema": {"enum": ["red", "green", "blue"]},
    },
    "extra": {"default": {"a": 1}, "description": None, "schema": {"type": "object"}},
}


@pytest.fixture
def etl():
    return store_dag("etl", {"extract": ["transform"], "transform": ["load"], "load": []})


def test_the_trigger_form_is_generated_from_the_params_schema(user):
    store_dag("greet", {"hello": []}, params=PARAMS)
    html = user.get("/dags/greet/trigger").content.decode()
    assert 'name="param:name" value="world"' in html
    assert 'name="param:times" value="2"' in html
    assert 'type="checkbox" name="param:loud"' in html
    assert '<option value="green" selected>' in html
    assert "Who to greet." in html
    assert 'name="param:extra"' in html and "&quot;a&quot;: 1" in html


def test_an_invalid_param_shows_its_error_next_to_the_field_and_creates_no_run(user):
    store_dag("greet", {"hello": []}, params=PARAMS)
    response = user.post(
        "/dags/greet/trigger",
        {"param:name": "", "param:times": "99", "param:color": "green", "param:extra": "{nope"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert DagRun.objects.count() == 0
    for name, problem in [
        ("name", "Must not be empty."),
        ("times", "Must be at most 10 (you entered 99)."),
        ("extra", "Not valid JSON"),
    ]:
        field = html[html.index(f'data-param="{name}"') :]
        field = field[: field.find("data-param=", 10)]
        assert problem in field, (name, field)
    assert 'value="99"' in html  # what the person typed stays


def test_triggering_reviews_the_run_then_creates_it_and_audits_it(user):
    store_dag("greet", {"hello": ["bye"], "bye": []}, params=PARAMS)
    review = user.post(
        "/dags/greet/trigger",
        {
            "param:name": "Ada",
            "param:times": "3",
            "param:loud": "true",
            "param:color": "blue",
            "param:extra": '{"b": 2}',
            "run_id": "my_run",
        },
    )
    html = review.content.decode()
    assert DagRun.objects.count() == 0
    assert "<code>hello</code>" in html and "<code>bye</code>" in html
    conf = json.loads(review.context["conf_json"])
    assert conf == {"name": "Ada", "times": 3, "loud": True, "color": "blue", "extra": {"b": 2}}
    done = user.post(
        "/dags/greet/trigger", {"confirm": "1", "conf_json": json.dumps(conf), "run_id": "my_run"}
    )
    assert done.status_code == 302
    run = DagRun.objects.get()
    assert (run.run_id, run.conf, run.triggered_by) == ("my_run", conf, "ui")
    assert TaskInstance.objects.filter(dag_run=run).count() == 2
    event = AuditEvent.objects.get(event="trigger")
    assert event.owner == "uma" and event.run_id == "my_run"


def test_a_dag_without_params_gets_a_json_conf_editor_that_must_hold_an_object(user, etl):
    assert 'name="conf"' in user.get("/dags/etl/trigger").content.decode()
    bad = user.post("/dags/etl/trigger", {"conf": "[1, 2]"})
    assert "must be a JSON object" in bad.content.decode()
    assert DagRun.objects.count() == 0
    ok = user.post("/dags/etl/trigger", {"conf": '{"x": "<b>"}'})
    assert "&lt;b&gt;" in ok.content.decode()


def test_a_refused_trigger_says_why(user, etl):
    add_run(etl, run_id="taken")
    response = user.post(
        "/dags/etl/trigger", {"confirm": "1", "conf_json": "{}", "run_id": "taken"}
    )
    assert "already has a run" in response.content.decode()
    bad_id = user.post("/dags/etl/trigger", {"confirm": "1", "conf_json": "{}", "run_id": "a/b"})
    assert "is not allowed" in bad_id.content.decode()
    assert DagRun.objects.count() == 1


def test_htmx_actions_answer_204_with_a_done_trigger(user, etl):
    response = user.post(
        "/dags/etl/trigger", {"confirm": "1", "conf_json": "{}"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert "orch:done" in response["HX-Trigger"]


def test_clear_lists_exactly_the_task_instances_then_clears_them(user, etl):
    run = add_run(
        etl,
        states={"extract": "success", "transform": "failed", "load": "upstream_failed"},
        state="failed",
    )
    url = "/dags/etl/clear"
    listing = user.get(url, {"run_id": run.run_id, "task_id": "transform"})
    assert [i["task_id"] for i in listing.context["items"]] == ["load", "transform"]
    only_this = user.get(url, {"run_id": run.run_id, "task_id": "transform", "options": "1"})
    assert [i["task_id"] for i in only_this.context["items"]] == ["transform"]
    upstream = user.get(
        url,
        {
            "run_id": run.run_id,
            "task_id": "load",
            "options": "1",
            "upstream": "1",
            "recursive": "1",
        },
    )
    assert [i["task_id"] for i in upstream.context["items"]] == ["extract", "load", "transform"]
    direct = user.get(
        url, {"run_id": run.run_id, "task_id": "load", "options": "1", "upstream": "1"}
    )
    assert [i["task_id"] for i in direct.context["items"]] == ["load", "transform"]
    failed = user.get(
        url,
        {
            "run_id": run.run_id,
            "task_id": "extract",
            "options": "1",
            "downstream": "1",
            "recursive": "1",
            "only_failed": "1",
        },
    )
    assert [i["task_id"] for i in failed.context["items"]] == ["load", "transform"]
    user.post(
        url,
        {
            "run_id": run.run_id,
            "task_id": "transform",
            "options": "1",
            "downstream": "1",
            "recursive": "1",
            "confirm": "1",
        },
    )
    states = dict(TaskInstance.objects.values_list("task_id", "state"))
    assert states == {"extract": "success", "transform": None, "load": None}
    assert DagRun.objects.get().state == "running"
    assert AuditEvent.objects.filter(event="clear", owner="uma").exists()


def test_mark_success_lists_then_marks(user, etl):
    run = add_run(etl, states={"extract": "failed"}, state="failed")
    listing = user.get(
        "/dags/etl/mark", {"run_id": run.run_id, "task_id": "extract", "state": "success"}
    )
    assert [(i["task_id"], i["new_state"]) for i in listing.context["items"]] == [
        ("extract", "success")
    ]
    user.post(
        "/dags/etl/mark",
        {"run_id": run.run_id, "task_id": "extract", "state": "success", "confirm": "1"},
    )
    assert TaskInstance.objects.get(task_id="extract").state == "success"
    assert AuditEvent.objects.filter(event="mark_success").exists()


def test_retry_clears_only_a_failed_try(user, etl):
    run = add_run(etl, states={"extract": "failed", "transform": "success"}, state="failed")
    user.post("/dags/etl/retry", {"run_id": run.run_id, "task_id": "transform", "confirm": "1"})
    assert TaskInstance.objects.get(task_id="transform").state == "success"
    listing = user.get("/dags/etl/retry", {"run_id": run.run_id, "task_id": "extract"})
    assert [i["task_id"] for i in listing.context["items"]] == ["extract"]
    user.post("/dags/etl/retry", {"run_id": run.run_id, "task_id": "extract", "confirm": "1"})
    assert TaskInstance.objects.get(task_id="extract").state is None
    assert TaskInstance.objects.get(task_id="transform").state == "success"


def test_pause_and_unpause(user, etl):
    assert user.post("/dags/etl/pause", {"paused": "1"}).status_code == 302
    etl.refresh_from_db()
    assert etl.is_paused
    toggle = user.post("/dags/etl/pause", {"paused": "0"}, headers={"HX-Request": "true"})
    assert 'aria-checked="true"' in toggle.content.decode()
    assert 'hx-swap-oob="true"' in toggle.content.decode()  # swapped wherever it is shown
    assert "orch:done" in toggle["HX-Trigger"]  # the dialog closes
    etl.refresh_from_db()
    assert not etl.is_paused
    assert list(AuditEvent.objects.order_by("when").values_list("event", flat=True)) == [
        "paused",
        "unpaused",
    ]


def test_the_pause_switch_asks_in_the_dashboards_dialog_not_confirm(user, etl):
    etl.is_paused = True
    etl.save(update_fields=["is_paused"])
    html = user.get("/dags/etl/").content.decode()
    assert "hx-confirm" not in html
    assert 'hx-get="/dags/etl/pause?paused=0" hx-target="#modal-body"' in html
    dialog = user.get("/dags/etl/pause", {"paused": "0"}, headers={"HX-Request": "true"})
    assert "Unpause etl" in dialog.content.decode()
    etl.refresh_from_db()
    assert etl.is_paused  # asking changes nothing


def test_the_unpause_dialog_promises_runs_only_to_a_dag_that_has_one_coming(user, etl):
    etl.next_dagrun = datetime(2026, 12, 1, tzinfo=UTC)
    etl.next_dagrun_create_after = datetime(2026, 12, 2, tzinfo=UTC)
    etl.save()
    scheduled = user.get("/dags/etl/pause", {"paused": "0"}).content.decode()
    assert "creates its runs again" in scheduled and "2026-12-02 00:00:00 UTC" in scheduled
    etl.next_dagrun_create_after = None
    etl.timetable_summary = "None"
    etl.save()
    unscheduled = user.get("/dags/etl/pause", {"paused": "0"}).content.decode()
    assert "creates no run" in unscheduled and "creates its runs again" not in unscheduled
    pausing = user.get("/dags/etl/pause", {"paused": "1"}).content.decode()
    assert "tasks already running finish" in pausing


def test_delete_run_lists_what_goes_then_deletes(user, etl):
    run = add_run(etl, states={"extract": "success"})
    listing = user.get("/dags/etl/delete-run", {"run_id": run.run_id})
    assert len(listing.context["items"]) == 3
    user.post("/dags/etl/delete-run", {"run_id": run.run_id, "confirm": "1"})
    assert not DagRun.objects.exists()
    assert AuditEvent.objects.filter(event="delete_dag_run").exists()


def test_marking_a_run_failed_lists_how_each_unfinished_task_changes(user, etl):
    run = add_run(etl, states={"extract": "running"})
    listing = user.get("/dags/etl/run-state", {"run_id": run.run_id, "state": "failed"})
    assert {i["task_id"]: i["new_state"] for i in listing.context["items"]} == {
        "extract": "failed",
        "load": "skipped",
        "transform": "skipped",
    }
    user.post("/dags/etl/run-state", {"run_id": run.run_id, "state": "failed", "confirm": "1"})
    assert DagRun.objects.get().state == "failed"


def test_viewers_see_no_action_buttons(viewer, user, etl):
    run = add_run(etl, states={"extract": "failed"}, state="failed")
    for path in ["/", "/dags/etl/", "/dags/etl/runs", f"/dags/etl/runs/{run.run_id}/tasks/extract"]:
        assert "data-action=" not in viewer.get(path).content.decode(), path
        assert "data-action=" in user.get(path).content.decode(), path


def test_a_trigger_with_a_naive_logical_date_takes_it_as_utc(user, etl):
    review = user.post("/dags/etl/trigger", {"conf": "{}", "logical_date": "2024-02-03T04:05"})
    assert review.status_code == 200 and "logical_date" not in review.context.get("errors", {})
    done = user.post(
        "/dags/etl/trigger",
        {"confirm": "1", "conf_json": "{}", "logical_date": "2024-02-03T04:05"},
    )
    assert done.status_code == 302
    assert DagRun.objects.get().logical_date.isoformat() == "2024-02-03T04:05:00+00:00"


def test_a_typed_logical_date_is_read_in_the_viewers_timezone(user, etl):
    user.cookies["orch_timezone"] = "Asia/Tokyo"
    form = user.get("/dags/etl/trigger").content.decode()
    assert "(Asia/Tokyo, optional)" in form
    review = user.post("/dags/etl/trigger", {"conf": "{}", "logical_date": "2024-02-03T04:05"})
    assert "for logical date <time" in review.content.decode()
    assert ">2024-02-03 04:05:00 JST</time>" in review.content.decode()
    done = user.post(
        "/dags/etl/trigger",
        {"confirm": "1", "conf_json": "{}", "logical_date": "2024-02-03T04:05"},
    )
    assert done.status_code == 302
    assert DagRun.objects.get().logical_date.isoformat() == "2024-02-02T19:05:00+00:00"


def test_clearing_an_unknown_task_names_it_instead_of_nothing_will_change(user, etl):
    run = add_run(etl, states={"extract": "success"})
    response = user.get("/dags/etl/clear", {"run_id": run.run_id, "task_id": "ghost"})
    html = response.content.decode()
    assert "DAG &#x27;etl&#x27; has no task &#x27;ghost&#x27;" in html
    assert "Nothing will change" not in html
    confirmed = user.post(
        "/dags/etl/clear", {"run_id": run.run_id, "task_id": "ghost", "confirm": "1"}
    )
    assert "has no task" in confirmed.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_nul_in_the_trigger_form_is_refused_with_the_shared_message(user, etl):
    response = user.post(
        "/dags/etl/trigger", {"conf": "{}", "note": "a\x00b", "confirm": "1", "conf_json": "{}"}
    )
    assert "note: NUL characters (\\u0000) are not allowed" in response.content.decode()
    assert not DagRun.objects.exists()


def test_the_run_state_preview_is_the_actions_own(user, etl):
    run = add_run(etl, states={"extract": "success", "transform": "running"}, state="running")
    response = user.get("/dags/etl/run-state", {"run_id": run.run_id, "state": "failed"})
    assert [(i["task_id"], i["new_state"]) for i in response.context["items"]] == [
        ("load", "skipped"),
        ("transform", "failed"),
    ]


@pytest.mark.parametrize("view", ["run-state", "mark"])
def test_a_state_no_page_sends_is_a_400_naming_it(user, etl, view):
    run = add_run(etl, states={"extract": "running"})
    response = user.get(f"/dags/etl/{view}", {"run_id": run.run_id, "state": "bogus"})
    assert response.status_code == 400
    assert "state must be success or failed, not &#x27;bogus&#x27;" in response.content.decode()
    assert TaskInstance.objects.get(task_id="extract").state == "running"
