"""start_from_trigger in the scheduler (Airflow's schedule_tis → defer_task): a ready task that
starts from its trigger is deferred on it at a new try, never scheduled for a worker; a due retry
starts from the trigger again; a task without it is scheduled as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, Trigger
from scheduler.scheduling.examine import examine_run
from tests.builders import make_run, ti_of

pytestmark = pytest.mark.django_db

ARGS = {
    "trigger_cls": "airflow.providers.standard.triggers.temporal.TimeDeltaTrigger",
    "trigger_kwargs": {"delta": {"__type": "timedelta", "__var": 5.0}, "end_from_trigger": True},
    "next_method": "execute_complete",
    "next_kwargs": {"note": "x"},
    "timeout": 60.0,
}


def starting_run():
    return make_run(
        settings={"extract": {"start_from_trigger": True, "start_trigger_args": ARGS, "retries": 1}}
    )


def test_a_ready_task_that_starts_from_its_trigger_is_deferred_without_a_worker():
    run = starting_run()
    now = timezone.now()
    examine_run(run, now)
    ti = ti_of(run, "extract")
    assert (ti.state, ti.try_number, ti.start_date) == ("deferred", 1, now)
    assert (ti.next_method, ti.next_kwargs) == ("execute_complete", {"note": "x"})
    assert ti.trigger_timeout == now + timedelta(seconds=60)
    trigger = Trigger.objects.get()
    assert (trigger.pk, trigger.classpath) == (ti.trigger_id, ARGS["trigger_cls"])
    assert trigger.kwargs == ARGS["trigger_kwargs"]
    event = AuditEvent.objects.get(task_id="extract")
    assert (event.event, event.owner, event.extra["reason"]) == (
        "deferred",
        "scheduler",
        "start_from_trigger",
    )
    assert (
        "Starting the task from the triggerer (start_from_trigger)" in ti_log_path(ti).read_text()
    )
    # Its downstream waits, as for any deferred task.
    assert ti_of(run, "load").state is None


def test_a_second_examination_does_not_defer_it_twice():
    run = starting_run()
    examine_run(run, timezone.now())
    examine_run(run, timezone.now())
    assert Trigger.objects.count() == 1
    assert ti_of(run, "extract").try_number == 1


def test_a_due_retry_starts_from_the_trigger_again_at_the_next_try():
    run = starting_run()
    ti = ti_of(run, "extract")
    ti.state, ti.try_number = "up_for_retry", 1
    ti.next_retry_at = timezone.now() - timedelta(seconds=1)
    ti.save()
    examine_run(run, timezone.now())
    ti.refresh_from_db()
    assert (ti.state, ti.try_number, ti.next_retry_at) == ("deferred", 2, None)


def test_a_task_without_start_from_trigger_is_scheduled_as_usual():
    run = make_run(settings={"extract": {"start_trigger_args": ARGS}})  # args, flag off
    examine_run(run, timezone.now())
    assert ti_of(run, "extract").state == "scheduled"
    assert not Trigger.objects.exists()
