"""Issue 9: a try whose runner never reached the Execution API to claim it (exit code
EXIT_NOT_CLAIMED) goes back to the queue without using a retry."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.logs import ti_log_path
from dagruns.models import TaskInstance, TaskInstanceHistory
from dagruns.sdk import DAG, PythonOperator
from scheduler.executors.base import ExecutorEvent
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_NOT_REPORTED
from scheduler.scheduling.health import fail_ended_runners
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def noop():
    return None


@pytest.fixture
def queued_ti(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    with DAG("unclaimed", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop, retries=0)
    store(dag)
    do_trigger_dag("unclaimed", Actor(name="test"))
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    ti = TaskInstance.objects.get()
    assert (ti.state, ti.try_number) == ("queued", 1)
    ti.executor = executor
    return ti


def test_an_unclaimed_try_goes_back_to_the_queue_without_using_a_retry(queued_ti):
    event = ExecutorEvent(str(queued_ti.pk), 1, EXIT_NOT_CLAIMED)

    assert fail_ended_runners([event], timezone.now()) == 0  # nothing failed

    queued_ti.refresh_from_db()
    assert (queued_ti.state, queued_ti.try_number) == ("scheduled", 1)
    assert not TaskInstanceHistory.objects.exists()
    assert "could not reach the Execution API to claim" in ti_log_path(queued_ti).read_text()

    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    queued_ti.refresh_from_db()
    assert (queued_ti.state, queued_ti.try_number) == ("queued", 1)
    assert [w.try_number for w in executor.workloads] == [1]


def test_a_runner_that_claimed_and_then_lost_the_api_still_fails_its_try(queued_ti):
    TaskInstance.objects.filter(pk=queued_ti.pk).update(state="running")
    event = ExecutorEvent(str(queued_ti.pk), 1, EXIT_NOT_CLAIMED)

    assert fail_ended_runners([event], timezone.now()) == 1

    queued_ti.refresh_from_db()
    assert queued_ti.state == "failed"


def test_other_exit_codes_of_a_queued_try_still_fail_it(queued_ti):
    event = ExecutorEvent(str(queued_ti.pk), 1, EXIT_NOT_REPORTED)

    assert fail_ended_runners([event], timezone.now()) == 1

    queued_ti.refresh_from_db()
    assert queued_ti.state == "failed"
