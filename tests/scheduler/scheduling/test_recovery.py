"""Recovery at start (scheduler/scheduling/recovery.py) and the graceful drain: what a previous
scheduler left queued or running is resolved at once, against real processes standing in for
runners (a live pid, a dead one, a reused one)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.jobs import end_job, start_job
from dagruns.domain.logs import ti_log_path
from dagruns.models import Job, TaskInstance, TaskInstanceHistory
from dagruns.sdk import DAG, PythonOperator
from scheduler.executors.liveness import process_alive, this_host
from scheduler.scheduling.loop import Scheduler
from scheduler.scheduling.recovery import AdoptedRunners, recover_at_start
from tests.builders import START, RecordingExecutor, noop, queue_one_try, store
from tests.polling import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def stand_in():
    """A real process standing in for a runner; killed afterwards whatever happened."""
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()


@pytest.fixture
def queued_ti(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    return queue_one_try("recovery")


def claimed(ti: TaskInstance, *, pid: int | None, hostname: str | None = None, at=None):
    at = at or timezone.now()
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="running",
        hostname=this_host() if hostname is None else hostname,
        pid=pid,
        start_date=at,
        last_heartbeat_at=at,
    )
    ti.refresh_from_db()
    return ti


def recover() -> tuple:
    adopted = AdoptedRunners()
    me = start_job("scheduler")
    report = recover_at_start(me, adopted, timezone.now())
    end_job(me)  # this incarnation "stops": the next recover() is a new one
    return report, adopted


def test_a_queued_try_nobody_started_is_queued_again_without_using_a_retry(queued_ti):
    report, _ = recover()
    assert report.requeued == 1
    queued_ti.refresh_from_db()
    assert (queued_ti.state, queued_ti.try_number, queued_ti.max_tries) == ("scheduled", 1, 1)
    assert not TaskInstanceHistory.objects.exists()
    assert "stopped before a runner started it" in ti_log_path(queued_ti).read_text()
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert [w.try_number for w in executor.workloads] == [1]


def test_queued_tries_are_left_alone_while_another_scheduler_lives(queued_ti, stand_in):
    peer = stand_in()
    Job.objects.create(
        job_type="scheduler",
        hostname=this_host(),
        pid=peer.pid,
        start_date=timezone.now(),
        latest_heartbeat=timezone.now(),
    )
    report, _ = recover()
    assert report.requeued == 0 and report.dead_schedulers == 0
    queued_ti.refresh_from_db()
    assert queued_ti.state == "queued"


def test_a_dead_peers_queued_try_is_queued_again_while_another_scheduler_lives(queued_ti, stand_in):
    """Airflow's queued_by_job_id: what a dead scheduler queued is re-queued at once; what a
    live peer queued stays its own."""
    now = timezone.now()
    live = Job.objects.create(
        job_type="scheduler", hostname=this_host(), pid=stand_in().pid, start_date=now,
        latest_heartbeat=now,
    )  # fmt: skip
    dead = Job.objects.create(
        job_type="scheduler", hostname=this_host(), pid=2**22 + 12346, start_date=now,
        latest_heartbeat=now,
    )  # fmt: skip
    by_live = queue_one_try("recovery_peer")
    TaskInstance.objects.filter(pk=queued_ti.pk).update(queued_by_job_id=dead.pk)
    TaskInstance.objects.filter(pk=by_live.pk).update(queued_by_job_id=live.pk)

    report, _ = recover()

    assert (report.requeued, report.dead_schedulers) == (1, 1)
    queued_ti.refresh_from_db()
    by_live.refresh_from_db()
    assert (queued_ti.state, queued_ti.try_number) == ("scheduled", 1)
    assert queued_ti.queued_by_job_id is None
    assert by_live.state == "queued"


def test_a_scheduler_records_itself_on_the_tries_it_queues(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    scheduler = Scheduler(executor=RecordingExecutor())
    scheduler.job = start_job("scheduler")
    try:
        with DAG("recorded", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=noop)
        store(dag)
        do_trigger_dag("recorded", Actor(name="test"))
        scheduler.run_once()
        ti = TaskInstance.objects.get(dag_id="recorded")
        assert (ti.state, ti.queued_by_job_id) == ("queued", scheduler.job.pk)
    finally:
        end_job(scheduler.job)


def test_a_dead_scheduler_job_is_ended_and_does_not_hold_back_its_queued_tries(queued_ti):
    dead = Job.objects.create(
        job_type="scheduler",
        hostname=this_host(),
        pid=2**22 + 12345,  # beyond pid_max's default: no such process
        start_date=timezone.now(),
        latest_heartbeat=timezone.now(),
    )
    report, _ = recover()
    assert report.dead_schedulers == 1 and report.requeued == 1
    dead.refresh_from_db()
    assert dead.state == "failed" and dead.end_date is not None


def test_a_silent_scheduler_on_another_host_is_dead_a_recent_one_alive(queued_ti):
    old = timezone.now() - timedelta(hours=1)
    Job.objects.create(
        job_type="scheduler", hostname="elsewhere", pid=1, start_date=old, latest_heartbeat=old
    )
    assert recover()[0].dead_schedulers == 1
    now = timezone.now()
    Job.objects.create(
        job_type="scheduler", hostname="elsewhere", pid=1, start_date=now, latest_heartbeat=now
    )
    report, _ = recover()
    assert report.dead_schedulers == 0


def test_a_running_try_whose_runner_is_gone_fails_at_once_with_a_log_line(queued_ti, stand_in):
    runner = stand_in()
    ti = claimed(queued_ti, pid=runner.pid)
    runner.kill()
    runner.wait()
    report, _ = recover()
    assert report.failed == 1
    ti.refresh_from_db()
    assert ti.state == "up_for_retry"
    assert f"The task runner (pid {runner.pid} on {this_host()}) is gone" in (
        ti_log_path(ti).read_text()
    )


def test_a_pid_reused_by_a_younger_process_is_not_the_runner(queued_ti, stand_in):
    claim_time = timezone.now() - timedelta(minutes=5)
    younger = stand_in()  # started after the claim: the kernel reused the pid
    assert not process_alive(younger.pid, claim_time)
    claimed(queued_ti, pid=younger.pid, at=claim_time)
    report, _ = recover()
    assert (report.adopted, report.failed) == (0, 1)


def test_a_surviving_runner_is_adopted_and_its_end_without_report_noticed(queued_ti, stand_in):
    runner = stand_in()
    ti = claimed(queued_ti, pid=runner.pid)
    report, adopted = recover()
    assert report.adopted == 1 and adopted.running_tries() == {str(ti.pk): 1}
    assert adopted.collect_ended(timezone.now()) == 0  # still running: left alone
    ti.refresh_from_db()
    assert ti.state == "running"
    runner.kill()
    runner.wait()
    wait_until(lambda: adopted.collect_ended(timezone.now()) == 1, "the adopted runner's end")
    ti.refresh_from_db()
    assert ti.state == "up_for_retry"
    assert "adopted after a scheduler restart, exited without reporting" in (
        ti_log_path(ti).read_text()
    )
    assert len(adopted) == 0


def test_an_adopted_runner_takes_a_slot_of_the_parallelism(queued_ti, stand_in):
    claimed(queued_ti, pid=stand_in().pid)
    _, adopted = recover()
    scheduler = Scheduler(executor=RecordingExecutor(parallelism=1))
    scheduler.adopted = adopted
    with DAG("waiting_for_a_slot", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop)
    store(dag)
    do_trigger_dag("waiting_for_a_slot", Actor(name="test"))
    scheduler.run_once()
    assert TaskInstance.objects.get(dag_id="waiting_for_a_slot").state == "scheduled"
    adopted.close()
    scheduler.run_once()
    assert TaskInstance.objects.get(dag_id="waiting_for_a_slot").state == "queued"


def test_an_adopted_runner_that_reported_ends_quietly(queued_ti, stand_in):
    runner = stand_in()
    ti = claimed(queued_ti, pid=runner.pid)
    _, adopted = recover()
    TaskInstance.objects.filter(pk=ti.pk).update(state="success")
    runner.kill()
    runner.wait()
    failed: list[int] = []
    wait_until(lambda: failed.append(adopted.collect_ended(timezone.now())) or not adopted, "end")
    assert sum(failed) == 0
    ti.refresh_from_db()
    assert ti.state == "success"


def test_a_try_claimed_on_another_host_is_left_to_the_heartbeat_timeout(queued_ti):
    ti = claimed(queued_ti, pid=1, hostname="elsewhere")
    report, _ = recover()
    assert report.work == 0
    ti.refresh_from_db()
    assert ti.state == "running"


def test_a_remote_executors_try_on_this_host_is_left_to_its_worker(queued_ti, stand_in):
    """A Celery worker on the scheduler's host runs this try: the restarting scheduler neither
    adopts it (its slots, its kill at shutdown) nor fails it; the worker answers for it."""
    worker_runner = stand_in()
    ti = claimed(queued_ti, pid=worker_runner.pid)
    TaskInstance.objects.filter(pk=ti.pk).update(executor="celery")
    report, adopted = recover()
    assert (report.adopted, report.failed) == (0, 0)
    assert len(adopted) == 0
    ti.refresh_from_db()
    assert ti.state == "running"


def test_a_local_try_is_adopted_when_several_executors_are_configured(queued_ti, stand_in):
    ti = claimed(queued_ti, pid=stand_in().pid)
    TaskInstance.objects.filter(pk=ti.pk).update(executor="local")
    report, adopted = recover()
    assert report.adopted == 1 and adopted.running_tries() == {str(ti.pk): ti.try_number}
    adopted.close()


class KillingExecutor(RecordingExecutor):
    """Its runners end when terminated, as the local executor's do."""

    def terminate(self, ti_id):
        stopped = super().terminate(ti_id)
        self.running.pop(ti_id, None)
        return stopped


def test_draining_takes_no_new_work_and_gives_back_what_outlives_the_grace(
    queued_ti, orch_settings
):
    """The first signal stops queueing; a try still running when the grace period ends is
    stopped and queued again at the same try number."""
    orch_settings.shutdown_grace = 0.0
    executor = KillingExecutor()
    scheduler = Scheduler(executor=executor)
    ti = claimed(queued_ti, pid=None)
    executor.running[str(ti.pk)] = ti.try_number  # as if this scheduler had started it
    # A second DAG run's task is ready: a draining scheduler must not queue it.
    do_trigger_dag("recovery", Actor(name="test"), run_id="second")
    scheduler.on_signal(15)
    assert scheduler.run_until(lambda _r: False, timeout=30) is False
    assert executor.workloads == []
    assert executor.terminated == [str(ti.pk)]
    ti.refresh_from_db()
    assert (ti.state, ti.try_number) == ("scheduled", 1)
    assert "grace period (ORCH_SHUTDOWN_GRACE)" in ti_log_path(ti).read_text()
    assert not TaskInstanceHistory.objects.exists()


def test_celery_tries_are_left_to_their_workers_queued_or_running(queued_ti, stand_in):
    """A Celery try's message waits in the broker and its runner lives on a worker: a
    restarting scheduler neither re-queues nor fails nor adopts it (even on this host)."""
    TaskInstance.objects.filter(pk=queued_ti.pk).update(executor="celery")
    report, _ = recover()
    assert report.requeued == 0
    queued_ti.refresh_from_db()
    assert queued_ti.state == "queued"
    runner = stand_in()
    ti = claimed(queued_ti, pid=runner.pid)
    runner.kill()
    runner.wait()
    report, adopted = recover()
    assert (report.failed, report.adopted, len(adopted)) == (0, 0, 0)
    ti.refresh_from_db()
    assert ti.state == "running"


class WorkerExecutor(KillingExecutor):
    """An executor whose runners live on workers (Celery's contract): nothing to drain."""

    def tries_to_drain(self) -> dict[str, int]:
        return {}


def test_a_stopping_scheduler_leaves_tries_running_on_workers_alone(queued_ti, orch_settings):
    orch_settings.shutdown_grace = 0.0
    executor = WorkerExecutor()
    scheduler = Scheduler(executor=executor)
    ti = claimed(queued_ti, pid=None, hostname="w1@worker-host")
    executor.running[str(ti.pk)] = ti.try_number
    scheduler.on_signal(15)
    assert scheduler.run_until(lambda _r: False, timeout=30) is False
    assert executor.terminated == []
    ti.refresh_from_db()
    assert (ti.state, ti.try_number) == ("running", 1)
