"""Ending a deferred task in the triggerer (end_from_trigger): the try ends in the event's state
without a worker, once, with its XComs, history, audit and log line; as in Airflow 3, a failure
asks the DAG processor to run the task's on_failure_callback, a success runs no callback."""

from __future__ import annotations

import pytest

from dagruns.actions.deferral import do_defer_try
from dagruns.actions.tries import do_start_try
from dagruns.actions.trigger_end import do_end_from_trigger
from dagruns.domain.logs import ti_log_path
from dagruns.models import (
    AuditEvent,
    DagCallbackRequest,
    TaskInstance,
    TaskInstanceHistory,
    Trigger,
    XCom,
)
from tests.builders import make_run, queue, ti_of

pytestmark = pytest.mark.django_db

CLASSPATH = "airflow.providers.standard.triggers.temporal.DateTimeTrigger"


def deferred(settings: dict | None = None) -> TaskInstance:
    run = make_run(settings={"extract": {"retries": 2, **(settings or {})}})
    ti = do_start_try(queue(ti_of(run, "extract")).id, 1)
    return do_defer_try(
        ti.id,
        1,
        classpath=CLASSPATH,
        trigger_kwargs={"end_from_trigger": True},
        next_method="execute_complete",
        next_kwargs={},
    )


def trigger_id() -> int:
    return Trigger.objects.get().pk


@pytest.mark.parametrize("state", ["success", "failed", "skipped"])
def test_a_task_end_event_ends_the_try_in_its_state_without_a_worker(state):
    ti = deferred()
    assert do_end_from_trigger(trigger_id(), state) == 1
    ti = TaskInstance.objects.get(pk=ti.pk)
    # Failed means failed even with retries left: Airflow's TaskFailedEvent does not retry.
    assert (ti.state, ti.try_number, ti.trigger_id) == (state, 1, None)
    assert ti.end_date is not None and ti.duration is not None and ti.duration >= 0
    assert not Trigger.objects.exists()
    assert TaskInstanceHistory.objects.get(task_instance=ti).state == state
    event = AuditEvent.objects.filter(task_id="extract").latest("pk")
    assert (event.event, event.extra["reason"]) == (state, "ended by its trigger")
    log = ti_log_path(ti).read_text()
    assert "ended the task in the triggerer" in log
    assert f"Marking task as {state.upper()} from the triggerer" in log


def test_an_end_events_xcoms_are_pushed_for_the_try():
    ti = deferred()
    do_end_from_trigger(trigger_id(), "success", {"rows": 3, "files": ["a", "b"]})
    pushed = {x.key: x.value for x in XCom.objects.filter(task_id="extract")}
    assert pushed == {"rows": 3, "files": ["a", "b"]}
    assert TaskInstance.objects.get(pk=ti.pk).state == "success"


def test_an_xcom_over_the_size_limit_fails_the_task_naming_it_and_pushes_nothing(orch_settings):
    orch_settings.xcom_max_size = 10
    ti = deferred()
    do_end_from_trigger(trigger_id(), "success", {"small": 1, "big": "x" * 100})
    ti = TaskInstance.objects.get(pk=ti.pk)
    assert ti.state == "failed"
    assert not XCom.objects.exists()
    assert "Could not push XCom 'big' of the event" in ti_log_path(ti).read_text()


def test_a_failure_event_with_a_refused_xcom_fails_the_task_without_raising(orch_settings):
    # Its state is the event's own (failed): the refused XCom must still not be pushed, which
    # raised and rolled back the triggerer's whole batch of ends and firings.
    orch_settings.xcom_max_size = 10
    ti = deferred()
    do_end_from_trigger(trigger_id(), "failed", {"big": "x" * 100})
    assert TaskInstance.objects.get(pk=ti.pk).state == "failed"
    assert not XCom.objects.exists()


def test_a_trigger_ending_its_task_twice_ends_it_once():
    ti = deferred()
    tid = trigger_id()
    assert do_end_from_trigger(tid, "success") == 1
    assert do_end_from_trigger(tid, "failed") == 0  # a second triggerer's late event
    assert TaskInstance.objects.get(pk=ti.pk).state == "success"
    assert TaskInstanceHistory.objects.count() == 1


def test_a_failure_asks_the_dag_processor_for_the_tasks_failure_callback():
    ti = deferred({"has_on_failure_callback": True})
    assert do_end_from_trigger(trigger_id(), "failed") == 1
    ti = TaskInstance.objects.get(pk=ti.pk)
    assert ti.state == "failed"  # ended here, not resumed in a worker
    request = DagCallbackRequest.objects.get()
    assert (request.dag_run_id, request.task_id, request.map_index, request.try_number) == (
        ti.dag_run_id,
        "extract",
        -1,
        1,
    )
    assert (request.is_failure, request.fileloc, request.finished_at) == (
        True,
        "/dags/etl.py",
        None,
    )
    assert request.callback_name == "task extract's on_failure_callback"
    assert "on_failure_callback to the DAG processor" in ti_log_path(ti).read_text()


def test_a_refused_xcom_fails_the_task_and_still_asks_for_its_failure_callback(orch_settings):
    orch_settings.xcom_max_size = 10
    deferred({"has_on_failure_callback": True})
    do_end_from_trigger(trigger_id(), "success", {"big": "x" * 100})
    assert DagCallbackRequest.objects.get().task_id == "extract"


def test_a_success_runs_no_success_callback_and_the_log_says_so():
    ti = deferred({"has_on_success_callback": True, "has_on_failure_callback": True})
    do_end_from_trigger(trigger_id(), "success")
    ti = TaskInstance.objects.get(pk=ti.pk)
    assert ti.state == "success"
    assert not DagCallbackRequest.objects.exists()
    assert "on_success_callback not run" in ti_log_path(ti).read_text()


@pytest.mark.parametrize("state", ["success", "skipped"])
def test_a_task_without_the_callback_gets_no_request(state):
    deferred({"has_on_success_callback": True})
    do_end_from_trigger(trigger_id(), state)
    assert not DagCallbackRequest.objects.exists()


def test_an_unknown_end_state_is_refused():
    deferred()
    with pytest.raises(ValueError, match="cannot end a task as 'running'"):
        do_end_from_trigger(trigger_id(), "running")
