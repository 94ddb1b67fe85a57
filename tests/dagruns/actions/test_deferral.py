"""Deferral actions: a running try defers to a trigger; the trigger's event, failure or timeout
sends it back to the scheduler at the same try, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.deferral import (
    delete_unused_triggers,
    do_append_trigger_logs,
    do_defer_try,
    do_fail_trigger,
    do_fire_trigger,
    next_trigger_timeout,
    time_out_deferred,
)
from dagruns.actions.task_instances import do_clear, do_mark_state
from dagruns.actions.tries import InvalidTaskState, do_start_try
from dagruns.models import TaskInstance, TaskInstanceHistory, Trigger, XCom
from tests.builders import make_run, queue, ti_of

pytestmark = pytest.mark.django_db

CLASSPATH = "airflow.providers.standard.triggers.temporal.DateTimeTrigger"
MOMENT = {"__type": "datetime", "__var": "2030-01-01T00:00:00+00:00"}


@pytest.fixture
def running():
    run = make_run(settings={"extract": {"retries": 2}})
    ti = queue(ti_of(run, "extract"))
    return do_start_try(ti.id, 1)


def defer(ti, timeout=None) -> TaskInstance:
    return do_defer_try(
        ti.id,
        ti.try_number,
        classpath=CLASSPATH,
        trigger_kwargs={"moment": MOMENT, "password": "s3cret"},
        next_method="execute_complete",
        next_kwargs={"n": 1},
        trigger_timeout=timeout,
    )


def test_deferring_stores_the_trigger_encrypted_and_keeps_the_try_open(running):
    ti = defer(running, timeout=timedelta(minutes=5))
    ti.refresh_from_db()
    assert ti.state == "deferred" and ti.try_number == 1
    assert ti.next_method == "execute_complete" and ti.next_kwargs == {"n": 1}
    assert ti.trigger_timeout > timezone.now() + timedelta(minutes=4)
    trigger = Trigger.objects.get()
    assert ti.trigger_id == trigger.pk and trigger.classpath == CLASSPATH
    assert trigger.kwargs == {"moment": MOMENT, "password": "s3cret"}
    assert "s3cret" not in trigger.encrypted_kwargs
    assert trigger.triggerer_id is None
    assert not TaskInstanceHistory.objects.exists()  # the try is not over


def test_only_a_running_try_can_defer(running):
    defer(running)
    with pytest.raises(InvalidTaskState):
        defer(running)


def test_a_fired_trigger_schedules_its_task_at_the_same_try_with_the_event(running):
    defer(running)
    trigger = Trigger.objects.get()
    assert do_fire_trigger(trigger.pk, MOMENT) == 1
    ti = TaskInstance.objects.get(pk=running.pk)
    assert ti.state == "scheduled" and ti.try_number == 1
    assert ti.next_method == "execute_complete"
    assert ti.next_kwargs == {"n": 1, "event": MOMENT}
    assert ti.trigger_id is None
    assert not Trigger.objects.exists()


def test_a_trigger_fired_twice_resumes_its_task_once(running):
    defer(running)
    trigger_id = Trigger.objects.get().pk
    assert do_fire_trigger(trigger_id, 1) == 1
    assert do_fire_trigger(trigger_id, 2) == 0  # a second triggerer's late firing
    assert TaskInstance.objects.get(pk=running.pk).next_kwargs["event"] == 1


def test_a_failed_trigger_resumes_its_task_into_failure_with_the_traceback(running):
    defer(running)
    do_fail_trigger(Trigger.objects.get().pk, ["Traceback", "RuntimeError: no"])
    ti = TaskInstance.objects.get(pk=running.pk)
    assert ti.state == "scheduled" and ti.next_method == "__fail__"
    assert ti.next_kwargs == {
        "error": "Trigger failure",
        "traceback": ["Traceback", "RuntimeError: no"],
    }


def test_a_deferral_past_its_timeout_resumes_into_failure_and_its_trigger_goes(running):
    defer(running, timeout=timedelta(seconds=30))
    assert time_out_deferred(timezone.now()) == 0
    due = next_trigger_timeout()
    assert time_out_deferred(due + timedelta(seconds=1)) == 1
    ti = TaskInstance.objects.get(pk=running.pk)
    assert ti.state == "scheduled" and ti.next_method == "__fail__"
    assert ti.next_kwargs == {"error": "Trigger/execution timeout"}
    assert not Trigger.objects.exists()
    assert next_trigger_timeout() is None


def test_a_resumed_try_keeps_its_xcoms(running):
    defer(running)
    XCom.objects.create(
        dag_run=running.dag_run, dag_id="etl", run_id=running.run_id, task_id="extract",
        key="k", value=1,
    )  # fmt: skip
    do_fire_trigger(Trigger.objects.get().pk, None)
    TaskInstance.objects.filter(pk=running.pk).update(state="queued", try_number=2)
    do_start_try(running.pk, 2)  # even at a later try number, a resume is not a new try
    assert XCom.objects.filter(task_id="extract").exists()


def test_clearing_a_deferred_task_drops_its_deferral_and_its_trigger(running):
    defer(running)
    do_clear([TaskInstance.objects.get(pk=running.pk)], Actor(name="test"))
    ti = TaskInstance.objects.get(pk=running.pk)
    assert ti.state is None
    assert (ti.trigger_id, ti.next_method, ti.next_kwargs, ti.trigger_timeout) == (None,) * 4
    assert not Trigger.objects.exists()


def test_marking_a_deferred_task_failed_drops_its_trigger(running):
    defer(running)
    do_mark_state([TaskInstance.objects.get(pk=running.pk)], "failed", Actor(name="test"))
    assert not Trigger.objects.exists()
    assert TaskInstance.objects.get(pk=running.pk).next_method is None


def test_unused_triggers_are_deleted_and_used_ones_kept(running):
    defer(running)
    Trigger.objects.create(classpath="x.Y", encrypted_kwargs="", created_date=timezone.now())
    assert delete_unused_triggers() == 1
    assert Trigger.objects.count() == 1


def test_trigger_log_lines_go_to_the_deferred_trys_log_with_stored_secrets_masked(running):
    from dagruns.domain.logs import ti_log_path
    from dagruns.models import Variable

    secret = Variable(key="api_password")
    secret.val = "pa55word-xyz"
    secret.save()
    defer(running)
    trigger_id = Trigger.objects.get().pk
    lines = ["[triggerer] waiting", "[triggerer] using pa55word-xyz"]
    assert do_append_trigger_logs({trigger_id: lines, 999: ["for no one"]}) == 2
    log = ti_log_path(TaskInstance.objects.get(pk=running.pk)).read_text()
    assert "[triggerer] waiting" in log and "pa55word-xyz" not in log
    assert "for no one" not in log


def test_why_waiting_names_the_trigger_its_triggerer_and_the_timeout(running):
    from dagruns.actions.waiting import why_waiting

    defer(running, timeout=timedelta(minutes=5))
    ti = TaskInstance.objects.get(pk=running.pk)
    [reason] = [r for r in why_waiting(ti) if r.name == "Task Instance State"]
    assert f"waiting for its trigger {CLASSPATH} to fire" in reason.reason
    assert "no triggerer has taken it yet" in reason.reason and "times out at" in reason.reason
    assert reason.code == CLASSPATH
    Trigger.objects.update(triggerer_id=42)
    [reason] = [r for r in why_waiting(ti) if r.name == "Task Instance State"]
    assert "triggerer 42 runs it" in reason.reason
