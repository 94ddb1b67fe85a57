"""`manage.py celery beat` as real processes on a private Redis broker and this test's
database: a job runs against the database through the broker; two beats do each job once per
period, and the standby takes over when the holder is killed; a failing job is retried and
logged; the backstop sweep fails a zombie only while no scheduler is alive; bad input is named.

Periods are short (`--every`), and nothing asserts how long anything took: the two-beat test
checks the claim numbers (each run once) and the spacing of the runs' own recorded times, which
the lock guarantees to be at least one period however slow the machine is.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dagruns.domain.health import job_health
from dagruns.domain.logs import run_log_dir
from dagruns.models import DagRun, Job, TaskInstance
from orchestrator_site import worker_registry
from tests.brokers import redis_server  # noqa: F401
from tests.builders import RecordingExecutor, add_run, queue_one_try, store_dag
from tests.polling import wait_until
from tests.processes import ROOT, server_env, stop

pytestmark = pytest.mark.django_db(transaction=True)

DONE = re.compile(
    r"housekeeping job (?P<job>\w+) \(claim #(?P<claim>\d+), sent at (?P<sent>[^)]+)\) done"
)


class Beat:
    """One `manage.py celery beat` process, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "celery", "beat", *args],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def says(self, fragment: str) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"beat exited with {self.proc.returncode}:\n{self.text()}")
        return fragment in self.text()

    def done(self, job: str) -> list[tuple[int, datetime]]:
        return [
            (int(m["claim"]), datetime.fromisoformat(m["sent"]))
            for m in DONE.finditer(self.text())
            if m["job"] == job
        ]

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


@pytest.fixture
def beats(tmp_path, redis_server, orch_settings):  # noqa: F811
    orch_settings.log_dir = tmp_path / "logs"
    started: list[Beat] = []

    def start(*args: str, **env: str) -> Beat:
        environment = server_env(
            tmp_path,
            8000,
            ORCH_CELERY_BROKER_URL=redis_server.url,
            ORCH_LOG_LEVEL="INFO",
            **env,
        )
        beat = Beat(environment, tmp_path / f"beat-{len(started)}.log", *args)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        stop(beat.proc)


def test_beat_runs_retention_against_the_database_through_the_broker(beats, redis_server):  # noqa: F811
    dag = store_dag("etl")
    now = timezone.now()
    add_run(dag, "old", state="success", when=now - timedelta(days=40), run_type="manual")
    add_run(dag, "young", state="success", when=now - timedelta(days=1), run_type="manual")
    run_log_dir("etl", "old").mkdir(parents=True)
    (run_log_dir("etl", "old") / "x.log").write_text("old")
    beat = beats("--every", "retention=0.5", ORCH_RETENTION_DAYS="30")
    wait_until(lambda: beat.done("retention"), "a retention run", timeout=120)
    assert list(DagRun.objects.values_list("run_id", flat=True)) == ["young"]
    assert not run_log_dir("etl", "old").exists()
    assert "deleted dag_run 1, task_instance 3" in beat.text()
    assert beat.says("retention every 0.5 s")
    # Beat is no task worker: not in the worker registry ("why is it waiting" counts those).
    assert worker_registry.live_workers(worker_registry.client(redis_server.url)) == []


def test_two_beats_run_each_job_once_per_period_and_the_standby_takes_over(beats):
    period = 0.5
    args = ("--every", f"backstop_sweep={period}", "--lock-timeout", "2")
    first = beats(*args)
    wait_until(lambda: first.says("holds the housekeeping lock"), "the first beat leading", 120)
    second = beats(*args)
    wait_until(lambda: second.says("standing by"), "the second beat standing by", 120)

    def runs() -> list[tuple[int, datetime]]:
        return first.done("backstop_sweep") + second.done("backstop_sweep")

    with_two = len(runs())
    wait_until(lambda: len(runs()) >= with_two + 6, "six sweeps with both beats up", 120)
    first.kill()  # dies holding the lease: the standby must wait for it to expire
    before_takeover = len(runs())
    wait_until(
        lambda: second.says("this beat") and second.says("holds the housekeeping lock"),
        "the standby taking the lock over",
        timeout=120,
    )
    wait_until(lambda: len(runs()) >= before_takeover + 4, "sweeps after the takeover", 120)

    done = sorted(runs())
    claims = [claim for claim, _ in done]
    assert len(claims) == len(set(claims)), f"a claim ran twice: {claims}"
    sent = [when for _, when in done]
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= period - 0.001, f"two sweeps within one period: {gaps}"
    # Both beats ran sweeps (the queue is shared), but only one sent at a time.
    assert first.done("backstop_sweep") and second.done("backstop_sweep")


def beat_job(beat: Beat) -> Job | None:
    return Job.objects.filter(job_type="celery_beat", pid=beat.proc.pid).first()


def test_a_beat_stopped_cleanly_hands_the_lock_over_without_waiting_for_it_to_expire(beats):
    """SIGTERM: the leader gives its lease up as it stops, so the standby takes over on its
    next tick, long before the 10-minute lease would have run out. Each beat, leader and
    standby, keeps a heartbeat (a Job row) that the health check reads; a stopped one ends it."""
    args = ("--every", "backstop_sweep=0.5", "--lock-timeout", "600")
    first = beats(*args)
    wait_until(lambda: first.says("holds the housekeeping lock"), "the first beat leading", 120)
    wait_until(lambda: beat_job(first) is not None, "the first beat's heartbeat", 60)
    assert job_health("celery_beat").status == "healthy"
    second = beats(*args)
    wait_until(lambda: second.says("standing by"), "the second beat standing by", 120)
    wait_until(lambda: beat_job(second) is not None, "the standby's heartbeat", 60)
    stop(first.proc)
    assert first.proc.returncode == 0, first.text()
    ended = beat_job(first)
    assert ended is not None and (ended.state, ended.end_date is not None) == ("success", True)
    assert job_health("celery_beat").status == "healthy"  # the standby beats
    wait_until(
        lambda: second.says("this beat") and second.says("holds the housekeeping lock"),
        "the standby taking the released lock",
        timeout=120,
    )
    ran = len(second.done("backstop_sweep"))
    wait_until(lambda: len(second.done("backstop_sweep")) > ran, "a sweep by the new leader", 120)


def test_a_failing_job_is_retried_with_its_reason_logged_then_succeeds(beats):
    dag = store_dag("etl")
    add_run(
        dag, "old", state="success", when=timezone.now() - timedelta(days=40), run_type="manual"
    )
    folder = run_log_dir("etl", "old")
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the run's log folder should be")
    beat = beats(
        "--every", "retention=3600", "--retry-delay", "0.5", "--max-retries", "20",
        ORCH_RETENTION_DAYS="30",
    )  # fmt: skip
    wait_until(
        lambda: beat.says("failed (try 2 of 21): OSError: cannot remove the run's logs"),
        "two failed tries logged",
        timeout=120,
    )
    assert "retrying in 0.5 s" in beat.text() and "retrying in 1 s" in beat.text()
    assert DagRun.objects.filter(run_id="old").exists()  # the batch rolled back
    folder.unlink()
    wait_until(lambda: beat.done("retention"), "the retry that succeeds", timeout=120)
    assert not DagRun.objects.filter(run_id="old").exists()


def test_a_job_that_keeps_failing_is_given_up_until_its_next_run(beats):
    dag = store_dag("etl")
    add_run(
        dag, "old", state="success", when=timezone.now() - timedelta(days=40), run_type="manual"
    )
    folder = run_log_dir("etl", "old")
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")
    beat = beats(
        "--every", "retention=3600", "--retry-delay", "0.2", "--max-retries", "1",
        ORCH_RETENTION_DAYS="30",
    )  # fmt: skip
    wait_until(lambda: beat.says("giving up until its next run"), "the last try", timeout=120)
    assert "failed (try 1 of 2)" in beat.text() and "failed (try 2 of 2)" in beat.text()
    assert DagRun.objects.filter(run_id="old").exists()


def test_the_backstop_sweep_fails_a_zombie_only_when_no_scheduler_is_alive(beats):
    ti = queue_one_try("sweep", RecordingExecutor())
    an_hour_ago = timezone.now() - timedelta(hours=1)
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="running", hostname="elsewhere", start_date=an_hour_ago, last_heartbeat_at=an_hour_ago
    )
    now = timezone.now()
    scheduler = Job.objects.create(job_type="scheduler", start_date=now, latest_heartbeat=now)
    beat = beats(
        "--every",
        "backstop_sweep=0.3",
        ORCH_TASK_HEARTBEAT_TIMEOUT="60",
        ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD="3600",
    )
    wait_until(lambda: beat.text().count("1 scheduler(s) alive") >= 2, "two skipped sweeps", 120)
    assert TaskInstance.objects.get(pk=ti.pk).state == "running"
    Job.objects.filter(pk=scheduler.pk).update(state="success", end_date=timezone.now())
    wait_until(
        lambda: TaskInstance.objects.get(pk=ti.pk).state in ("failed", "up_for_retry"),
        "the zombie failed by the sweep",
        timeout=120,
    )
    # The job logs its summary after its transaction committed: wait for the line too.
    wait_until(
        lambda: "no scheduler alive: 1 zombie try(ies)" in beat.text(), "the sweep's log line"
    )


def test_a_beat_started_before_redis_waits_for_it_then_works(beats, redis_server):  # noqa: F811
    redis_server.stop()
    beat = beats("--every", "backstop_sweep=0.5")
    wait_until(
        lambda: beat.says("cannot reach Redis for the housekeeping lock"),
        "the lock's complaint about Redis",
        timeout=120,
    )
    assert beat.proc.poll() is None
    redis_server.start()  # the same port
    wait_until(lambda: beat.done("backstop_sweep"), "a sweep once Redis answers", timeout=180)
    assert beat.says("Redis answers again")


# The command refuses these before it reaches a database or a broker: no engine can matter.
@pytest.mark.same_on_every_database
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--every", "nope=1"], {}, "--every: unknown housekeeping job(s) nope"),
        (["--every", "retention"], {}, "'retention' is not JOB=SECONDS"),
        (["--lock-timeout", "0"], {}, "'0' must be more than 0"),
        (["--lock-timeout", "1"], {}, "'1' must be at least 2 seconds"),
        ([], {"ORCH_CELERY_BROKER_URL": "amqp://127.0.0.1//"}, "only Redis is supported"),
        ([], {"ORCH_CELERY_BROKER_URL": "", "ORCH_REDIS_URL": ""}, "set ORCH_CELERY_BROKER_URL"),
    ],
)
def test_bad_input_is_an_error_naming_it(tmp_path, args, env, message):
    environment = server_env(tmp_path, 8000, ORCH_CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    environment.update(env)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "celery", "beat", *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
