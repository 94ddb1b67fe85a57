"""The scheduler and reschedule-mode sensors: an up_for_reschedule task instance is queued
again (same try) once its reschedule date has passed, and the scheduler wakes for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import TaskInstance
from dagruns.sdk import DAG, PythonSensor
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def waiting_sensor(reschedule_in: timedelta) -> TaskInstance:
    with DAG("sensing", schedule=None, start_date=START) as dag:
        PythonSensor(task_id="wait", python_callable=bool, mode="reschedule")
    store(dag)
    run = do_trigger_dag("sensing", Actor(name="test"))
    ti = TaskInstance.objects.get(dag_run=run, task_id="wait")
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="up_for_reschedule", try_number=1, next_retry_at=timezone.now() + reschedule_in
    )
    return ti


def test_a_sensor_is_queued_again_with_the_same_try_once_its_date_passed():
    ti = waiting_sensor(timedelta(seconds=-1))
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    ti.refresh_from_db()
    assert (ti.state, ti.try_number) == ("queued", 1)
    assert [w.try_number for w in executor.workloads] == [1]


def test_a_sensor_waits_until_its_reschedule_date():
    ti = waiting_sensor(timedelta(minutes=5))
    executor = RecordingExecutor()
    scheduler = Scheduler(executor=executor)
    scheduler.run_once()
    ti.refresh_from_db()
    assert (ti.state, executor.workloads) == ("up_for_reschedule", [])
    # The idle scheduler sleeps no longer than until the reschedule date.
    assert 0 < scheduler._seconds_to_next_retry() <= 300
