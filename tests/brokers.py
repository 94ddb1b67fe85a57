"""A private Redis server per test: its own port and nothing on disk, so a test can restart or
stop it (broker faults) and never sees another test's (or another test run's) queues."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.benchmarks.broker import pings, redis_server_command
from tests.polling import wait_until
from tests.processes import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """One redis-server process; `url` is what ORCH_CELERY_BROKER_URL / ORCH_REDIS_URL take."""

    def __init__(self, workdir: Path, bind: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.workdir = workdir
        self.bind = bind  # more addresses: e.g. a test network namespace's host end
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            redis_server_command(REDIS_SERVER, self.port, self.workdir, self.bind),
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self.ping, f"redis-server on port {self.port}", timeout=30)

    def ping(self) -> bool:
        return pings(self.port)

    def stop(self) -> None:
        """Kill it: like the machine's Redis, it keeps nothing, so every queue is lost."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is not installed (Debian's redis-server package)")
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()
