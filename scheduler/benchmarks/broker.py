"""The Celery benchmark's broker and workers: a private redis-server (its own port, nothing on
disk) unless ORCH_CELERY_BROKER_URL names one, and N real `manage.py celery worker` processes.

A private server by default, so a benchmark never shares queues with the machine's Redis (a
scheduler or worker left running elsewhere would take the benchmark's messages, or leave its
own in the benchmark's queue)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import CommandError

from scheduler.benchmarks.engine import free_port


def pings(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), 1) as s,
    ):
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def redis_server_command(
    binary: str, port: int, workdir: Path, bind: tuple[str, ...] = ("127.0.0.1",)
) -> list[str]:
    """A redis-server at `port` that keeps nothing on disk (as the machine's does), logging to
    `workdir/redis.log`, on loopback unless `bind` names more addresses. Also the tests'
    private server (tests/brokers.py)."""
    return [
        binary, "--port", str(port), "--bind", *bind,
        # Bound beyond loopback only to a test namespace's private veth: let it in.
        "--protected-mode", "yes" if bind == ("127.0.0.1",) else "no",
        "--save", "", "--appendonly", "no", "--dir", str(workdir),
        "--logfile", str(workdir / "redis.log"),
    ]  # fmt: skip


@contextlib.contextmanager
def broker(workdir: Path) -> Iterator[dict[str, str]]:
    """{"url": …, "source": …}: ORCH_CELERY_BROKER_URL when it is set, else a redis-server
    started here on a free port and killed on exit."""
    configured = os.environ.get("ORCH_CELERY_BROKER_URL")
    if configured:
        yield {"url": configured, "source": "ORCH_CELERY_BROKER_URL"}
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise CommandError(
            "--executor celery needs a broker: set ORCH_CELERY_BROKER_URL, or install "
            "redis-server (Debian's redis-server package) so the benchmark can start its own"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        redis_server_command(binary, port, workdir),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not pings(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise CommandError(
                    f"the benchmark's redis-server on port {port} did not start "
                    f"(see {workdir / 'redis.log'})"
                )
            time.sleep(0.05)
        yield {
            "url": f"redis://127.0.0.1:{port}/0",
            "source": f"private redis-server started by the benchmark on port {port}",
        }
    finally:
        server.kill()
        server.wait(10)


def worker_env(env: dict[str, str]) -> dict[str, str]:
    """A worker's environment: the broker and the Execution API, no database (a worker host
    has no database credentials; the benchmark runs it the way production does)."""
    return {key: value for key, value in env.items() if key != "ORCH_DATABASE_URL"}


def start_workers(
    manage: list[str], env: dict[str, str], workers: int, concurrency: int
) -> list[subprocess.Popen]:
    """`manage.py celery worker -c CONCURRENCY --hostname benchN@%h`, each in its own process
    group (stopped with everything it forked)."""
    return [
        subprocess.Popen(
            [
                *manage,
                "celery",
                "worker",
                "-q",
                "default",
                "-c",
                str(concurrency),
                "--hostname",
                f"bench{n}@%h",
            ],
            env=worker_env(env),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for n in range(1, workers + 1)
    ]


def wait_workers_ready(broker_url: str, workers: list[subprocess.Popen], timeout=120.0) -> None:
    """Until every worker answers Celery's control ping (it consumes from its queues)."""
    from celery import Celery

    app = Celery("orchestrator-benchmark", broker=broker_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            for proc in workers:
                if proc.poll() is not None:
                    raise CommandError(f"a Celery worker exited with {proc.returncode} at start")
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= len(workers):
                return
            if time.monotonic() > deadline:
                raise CommandError(
                    f"{len(replies)} of {len(workers)} Celery workers answered within {timeout:g} s"
                )
    finally:
        app.close()


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each worker's main process (Celery's warm shutdown: nothing runs any more),
    SIGKILL to its process group when it has not ended within 30 s, and to what is left of it
    (its forkserver)."""
    for proc in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
