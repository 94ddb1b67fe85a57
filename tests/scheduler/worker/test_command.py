"""`manage.py celery worker` (and `celery -A orchestrator_site worker`): its flags work, it
imports no Django, and a missing or unreachable broker is a clear error, not a crash loop."""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

import signal
import subprocess
import sys

from orchestrator_site import worker_registry
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker, running_workers, worker_env
from tests.polling import wait_until
from tests.processes import ROOT, free_port


def run_worker(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "celery", "worker", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_worker_side_imports_no_orm_no_settings_and_no_database_layer():
    """(kombu's JSON encoder imports django.utils.functional when Django is installed, for lazy
    strings: a utility module, no ORM, no settings, no database driver.)"""
    code = (
        "import sys, orchestrator_site.celery, scheduler.tasks, scheduler.worker.command;"
        "bad = sorted(m for m in sys.modules if m.startswith(("
        "'django.db', 'django.apps', 'django.conf.settings', 'django.contrib', 'channels',"
        "'psycopg', 'sqlite3', 'dagruns.models', 'dagruns.actions', 'dagruns.domain',"
        "'orchestrator_site.settings')));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_a_broker_setting_it_says_which_variable_to_set():
    env = worker_env("")
    env.pop("ORCH_CELERY_BROKER_URL")
    done = run_worker(env)
    assert done.returncode == 2
    assert "set ORCH_CELERY_BROKER_URL (or ORCH_REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_flags_are_refused_naming_the_flag():
    env = worker_env("redis://127.0.0.1:1/0")
    done = run_worker(env, "-c", "0")
    assert done.returncode == 2 and "argument -c/--concurrency: 0 must be at least 1" in done.stderr
    done = run_worker(env, "-q", " , ")
    assert done.returncode == 2 and "argument -q/--queues: ' , ' names no queue" in done.stderr


def test_beats_housekeeping_queue_is_refused_because_its_jobs_need_the_database():
    done = run_worker(
        worker_env("redis://127.0.0.1:1/0"), "-q", "default,orchestrator.housekeeping"
    )
    assert done.returncode == 2
    assert "'orchestrator.housekeeping' is Celery beat's housekeeping queue" in done.stderr


def test_an_unreachable_broker_is_waited_for_with_a_clear_error_and_no_crash(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "celery", "worker", "-c", "1"],
            env=worker_env(url),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: log.read_text().count("cannot reach") >= 2, "two attempts", timeout=60)
        assert worker.poll() is None  # still waiting, not crashed
        text = log.read_text()
        assert f"error: cannot reach the Celery broker {url} (ORCH_CELERY_BROKER_URL)" in text
        assert "retrying in 1 s" in text and "retrying in 2 s" in text  # a growing pause
        assert "Traceback" not in text
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_the_flags_reach_the_worker_and_its_registry_entry(redis_server, tmp_path):
    worker = Worker(
        redis_server.url, "flags@test", tmp_path / "w.log", queues="etl,reports", concurrency=3
    )
    with running_workers([worker]):
        conn = worker_registry.client(redis_server.url)
        (record,) = worker_registry.live_workers(conn)
        conn.close()
    assert (record.name, record.queues, record.concurrency) == ("flags@test", ("etl", "reports"), 3)
    conn = worker_registry.client(redis_server.url)
    assert worker_registry.live_workers(conn) == []  # a worker that stops leaves the registry
    conn.close()


def test_celery_dash_a_orchestrator_site_starts_the_same_worker(redis_server, tmp_path):
    log = tmp_path / "celery.log"
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "orchestrator_site", "worker",
                "-Q", "etl", "-c", "1", "-n", "plain@test", "--without-mingle",
            ],
            env=worker_env(redis_server.url),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:

        def registered() -> list[worker_registry.WorkerRecord]:
            assert worker.poll() is None, log.read_text()
            conn = worker_registry.client(redis_server.url)
            try:
                return worker_registry.live_workers(conn)
            finally:
                conn.close()

        wait_until(registered, "the worker registered", timeout=90)
        (record,) = registered()
        assert (record.name, record.queues) == ("plain@test", ("etl",))
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
