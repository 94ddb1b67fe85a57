"""Tries that went wrong outside the task: a runner that died, a zombie, a try stuck queued."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.domain.logs import ti_log_path
from dagruns.models import TaskInstance, TaskInstanceHistory
from scheduler.executors.base import ExecutorEvent
from scheduler.executors.liveness import this_host
from scheduler.executors.multi import MultiExecutor
from scheduler.scheduling.health import (
    fail_ended_runners,
    fail_stuck_queued,
    fail_zombies,
    stop_orphaned_runners,
)
from tests.builders import RecordingExecutor, queue_one_try

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_ti(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    executor = RecordingExecutor()
    ti = queue_one_try("health", executor)
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="running", start_date=timezone.now(), last_heartbeat_at=timezone.now()
    )
    ti.refresh_from_db()
    ti.executor = executor
    return ti


def test_a_runner_that_died_without_reporting_fails_its_try_at_once(running_ti):
    event = ExecutorEvent(str(running_ti.pk), running_ti.try_number, -9)
    assert fail_ended_runners([event], timezone.now()) == 1
    running_ti.refresh_from_db()
    assert running_ti.state == "up_for_retry" and running_ti.next_retry_at is not None
    assert "exited (signal 9) without reporting" in ti_log_path(running_ti).read_text()
    assert TaskInstanceHistory.objects.get().state == "up_for_retry"


def test_a_runner_that_reported_before_exiting_changes_nothing(running_ti):
    TaskInstance.objects.filter(pk=running_ti.pk).update(state="success")
    event = ExecutorEvent(str(running_ti.pk), running_ti.try_number, 0)
    assert fail_ended_runners([event], timezone.now()) == 0
    assert TaskInstance.objects.get().state == "success"


def test_an_event_for_an_older_try_changes_nothing(running_ti):
    event = ExecutorEvent(str(running_ti.pk), running_ti.try_number - 1, 1)
    assert fail_ended_runners([event], timezone.now()) == 0
    assert TaskInstance.objects.get().state == "running"


def test_a_running_try_without_heartbeat_is_a_zombie(running_ti, orch_settings):
    orch_settings.task_heartbeat_timeout = 60
    TaskInstance.objects.filter(pk=running_ti.pk).update(
        last_heartbeat_at=timezone.now() - timedelta(seconds=61)
    )
    assert fail_zombies(timezone.now()) == 1
    running_ti.refresh_from_db()
    assert running_ti.state == "up_for_retry"
    assert "Detected zombie" in ti_log_path(running_ti).read_text()


def test_a_zombie_whose_frozen_runner_lives_on_this_host_is_failed_only_once_it_is_killed(
    running_ti, orch_settings
):
    """The retry must never overlap the old runner: it is killed first (with its group)."""
    orch_settings.task_heartbeat_timeout = 60
    frozen = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    try:
        TaskInstance.objects.filter(pk=running_ti.pk).update(
            hostname=this_host(),
            pid=frozen.pid,
            start_date=timezone.now(),
            last_heartbeat_at=timezone.now() - timedelta(seconds=61),
        )
        failed = 0
        deadline = time.monotonic() + 30
        while not failed:
            assert time.monotonic() < deadline, "the zombie was never failed"
            failed = fail_zombies(timezone.now() + timedelta(seconds=1))
            frozen.poll()  # reap it once killed, as its parent would
            time.sleep(0.05)
        assert frozen.wait(30) == -9, "killed before its try was failed"
        assert TaskInstance.objects.get().state == "up_for_retry"
    finally:
        frozen.kill()
        frozen.wait()


def test_a_recent_heartbeat_is_not_a_zombie(running_ti, orch_settings):
    orch_settings.task_heartbeat_timeout = 60
    assert fail_zombies(timezone.now()) == 0


def test_a_try_stuck_in_queued_fails(running_ti, orch_settings):
    orch_settings.task_queued_timeout = 30
    TaskInstance.objects.filter(pk=running_ti.pk).update(
        state="queued", queued_dttm=timezone.now() - timedelta(seconds=31)
    )
    assert fail_stuck_queued(timezone.now()) == 1
    assert TaskInstance.objects.get().state == "up_for_retry"


def test_a_runner_whose_try_was_cleared_is_terminated(running_ti):
    executor = running_ti.executor
    TaskInstance.objects.filter(pk=running_ti.pk).update(state=None)
    assert stop_orphaned_runners(executor) == 1
    assert executor.terminated == [str(running_ti.pk)]
    assert stop_orphaned_runners(executor) == 0  # once is enough


class ResendingExecutor(RecordingExecutor):
    """The contract's fake for an executor whose broker can lose messages (Celery)."""

    def can_resend(self, executor_name: str) -> bool:
        return executor_name == "recording"

    def __init__(self) -> None:
        super().__init__()
        self.resent: dict[str, int] = {}

    def resends_done(self, ti_id: str, try_number: int) -> int:
        return self.resent.get(ti_id, 0)

    def resend(self, workload, count: int) -> None:
        self.queue(workload)
        self.resent[workload.ti_id] = count


def test_a_try_stuck_queued_is_sent_again_a_bounded_number_of_times_then_failed(
    orch_settings, tmp_path
):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.task_queued_timeout = 30
    orch_settings.task_queued_resends = 2  # re-sends at 10 s and 20 s, failed at 30 s
    executor = ResendingExecutor()
    ti = queue_one_try("resend", executor)
    queued_at = ti.queued_dttm
    assert queued_at is not None
    assert fail_stuck_queued(queued_at + timedelta(seconds=9), executor) == 0
    assert len(executor.workloads) == 1
    assert fail_stuck_queued(queued_at + timedelta(seconds=11), executor) == 0
    assert fail_stuck_queued(queued_at + timedelta(seconds=12), executor) == 0  # once per step
    assert len(executor.workloads) == 2
    again = executor.workloads[-1]
    assert (again.ti_id, again.try_number) == (str(ti.pk), 1)
    assert fail_stuck_queued(queued_at + timedelta(seconds=21), executor) == 0
    assert len(executor.workloads) == 3
    ti.refresh_from_db()
    assert ti.state == "queued"
    assert fail_stuck_queued(queued_at + timedelta(seconds=31), executor) == 1
    assert len(executor.workloads) == 3
    ti.refresh_from_db()
    assert ti.state == "up_for_retry"
    log = ti_log_path(ti).read_text()
    assert "sent again (re-send 1 of 2, ORCH_TASK_QUEUED_RESENDS)" in log
    assert "sent again (re-send 2 of 2, ORCH_TASK_QUEUED_RESENDS)" in log
    assert "its message was sent 3 times (ORCH_TASK_QUEUED_RESENDS=2) and no worker took it" in log


def test_an_executor_that_cannot_lose_messages_is_never_asked_to_resend(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.task_queued_timeout = 30
    executor = RecordingExecutor()
    ti = queue_one_try("noresend", executor)
    assert ti.queued_dttm is not None
    assert fail_stuck_queued(ti.queued_dttm + timedelta(seconds=25), executor) == 0
    assert len(executor.workloads) == 1


def test_a_cleared_try_is_terminated_on_the_executor_that_runs_it(orch_settings, tmp_path):
    """With several executors the routing executor finds the runner's owner."""
    orch_settings.log_dir = tmp_path / "logs"
    local, celery = RecordingExecutor(name="local"), RecordingExecutor(name="celery")
    multi = MultiExecutor({"celery": celery, "local": local})  # celery the default
    ti = queue_one_try("health_routed", multi)
    assert celery.running_tries() == {str(ti.pk): 1}
    TaskInstance.objects.filter(pk=ti.pk).update(state=None)
    assert stop_orphaned_runners(multi) == 1
    assert celery.terminated == [str(ti.pk)] and local.terminated == []
