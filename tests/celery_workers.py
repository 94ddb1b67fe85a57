"""Real Celery workers for tests: `manage.py celery worker` subprocesses on a private Redis
(tests/brokers.py), each in its own session, with no database settings at all (a worker needs
the broker and the Execution API only). `kill` takes down a worker's whole tree, runners
included (they lead their own process groups), as losing its host would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from orchestrator_site import worker_registry
from tests.polling import wait_until
from tests.processes import ROOT, server_env


def worker_env(broker_url: str, **extra: str) -> dict[str, str]:
    """A worker's whole configuration: the broker, nothing about any database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env.update(
        {
            "ORCH_CELERY_BROKER_URL": broker_url,
            "ORCH_LOG_LEVEL": "WARNING",
            # Celery refuses nothing as root with JSON only, but warns on every start.
            "C_FORCE_ROOT": "1",
        }
    )
    env.update(extra)
    return env


def celery_server_env(
    home: Path, port: int, broker_url: str, executor: str = "celery", **extra: str
) -> dict[str, str]:
    """The environment of an API server or scheduler that hands tasks to Celery workers on
    `broker_url` (`executor` may name several, "local,celery"), with the quick heartbeats and
    idle ticks of every engine test; `extra` adds or overrides settings."""
    settings = {
        "ORCH_EXECUTOR": executor,
        "ORCH_CELERY_BROKER_URL": broker_url,
        "ORCH_TASK_HEARTBEAT_INTERVAL": "0.5",
        "ORCH_SCHEDULER_IDLE_SLEEP": "0.05",
    }
    return server_env(home, port, **{**settings, **extra})


class Worker:
    """One `manage.py celery worker` process; its log is in `log_path`."""

    def __init__(
        self,
        broker_url: str,
        name: str,
        log_path: Path,
        queues: str = "default",
        concurrency: int = 2,
        env: dict[str, str] | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.broker_url = broker_url
        self.options = options  # more of `manage.py celery worker`'s options (--pods)
        self.name = name
        self.log_path = log_path
        self.queues = queues
        self.concurrency = concurrency
        self.env = env or worker_env(broker_url)
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Worker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, str(ROOT / "manage.py"), "celery", "worker",
                    "-q", self.queues, "-c", str(self.concurrency), "-H", self.name,
                    *self.options,
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        def registered() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited: {self.log()}")
            with contextlib.suppress(Exception):
                conn = worker_registry.client(self.broker_url)
                try:
                    return any(w.name == self.name for w in worker_registry.live_workers(conn))
                finally:
                    conn.close()
            return False

        wait_until(registered, f"worker {self.name} registered", timeout=timeout)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def tree(self) -> list[psutil.Process]:
        try:
            return [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def runners(self) -> list[psutil.Process]:
        """The task runners running now: the children of the worker's forkserver."""
        found = []
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                if "forkserver" in " ".join(proc.cmdline()):
                    found.extend(proc.children())
        return found

    def kill(self) -> None:
        """SIGKILL the worker and everything below it (its host is gone)."""
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        if self.process is not None:
            self.process.wait(30)

    def terminate(self) -> None:
        """SIGTERM to the worker's main process: Celery's warm shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def stop(self, timeout: float = 60) -> None:
        if self.process is None:
            return
        tree = self.tree()
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


@contextlib.contextmanager
def running_workers(workers: list[Worker]) -> Iterator[list[Worker]]:
    try:
        for worker in workers:
            worker.start(wait=False)
        for worker in workers:
            worker.wait_ready()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def celery_workers(redis_server, tmp_path) -> Iterator[list[Worker]]:
    """Two workers on the `default` queue of this test's private Redis."""
    workers = [Worker(redis_server.url, f"w{i}@test", tmp_path / f"worker{i}.log") for i in (1, 2)]
    with running_workers(workers):
        yield workers
