"""What a worker does besides running tasks: its run directory, its entry in the worker registry,
and the remote-control command that terminates a try.

Connected to Celery's worker signals when scheduler/tasks.py is imported (the app includes it),
so `manage.py celery worker` and `celery -A orchestrator_site worker` behave the same.

* `worker_init` (main process, before the pool starts): the run directory where pool threads
  note each runner's pid (forked.py), and the forkserver that forks the runners.
* `worker_ready`: the registry entry (orchestrator_site/worker_registry.py), refreshed by a
  daemon thread until `worker_shutdown`, which deletes it.
* `orchestrator_terminate_try` (a remote-control command, broadcast by the executor's
  `terminate()`): revokes the try's messages not started yet (a worker that later receives one
  drops it) and kills the try's runner with its process group where it runs. The request it
  notes first also reaches a try run in a pod: the pool thread watching the pod deletes it
  (scheduler/worker/pods.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from celery import signals
from celery.worker import control

from orchestrator_site import worker_registry
from orchestrator_site.celery import TERMINATE_TRY_COMMAND, safe_url
from scheduler.worker import forked

log = logging.getLogger("orchestrator.worker")


class _Registration:
    """The daemon thread keeping this worker's registry key alive."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.consumer: Any = None
        self.name = ""
        self.failing = False

    def start(self, consumer: Any) -> None:
        self.consumer = consumer
        self.name = str(consumer.hostname)
        self.thread = threading.Thread(target=self._run, name="orchestrator-registry", daemon=True)
        self.thread.start()

    def record(self) -> worker_registry.WorkerRecord:
        consumer = self.consumer
        queues: list[str] = []
        task_consumer = getattr(consumer, "task_consumer", None)
        if task_consumer is not None:
            queues = sorted({q.name for q in task_consumer.queues})
        else:
            queues = sorted(consumer.app.amqp.queues.consume_from or {})
        pool = getattr(consumer, "pool", None)
        return worker_registry.WorkerRecord(
            name=self.name,
            hostname=socket.gethostname(),
            queues=tuple(queues),
            concurrency=int(getattr(pool, "num_processes", 0) or 0),
            pid=os.getpid(),
            started=_STARTED,
        )

    def _run(self) -> None:
        url = str(self.consumer.app.conf.broker_url)
        conn = worker_registry.client(url)
        while not self.stop.is_set():
            try:
                worker_registry.register(conn, self.record())
                if self.failing:
                    log.warning("worker registry: registered again at %s", safe_url(url))
                self.failing = False
            except Exception as exc:  # Redis away: retried on the next beat
                if not self.failing:
                    log.warning(
                        "worker registry: cannot register at %s (%s); retrying every %g s",
                        safe_url(url),
                        exc,
                        worker_registry.REFRESH,
                    )
                self.failing = True
            forked.expire_kill_requests()
            self.stop.wait(worker_registry.REFRESH)
        with contextlib.suppress(Exception):
            worker_registry.unregister(conn, self.name)
        conn.close()

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)


_STARTED = time.time()
_registration = _Registration()


@signals.worker_init.connect
def on_worker_init(sender: Any = None, **kwargs: Any) -> None:
    forked.make_run_dir()
    forked.start_forkserver()


@signals.worker_process_init.connect
def on_pool_process_init(sender: Any = None, **kwargs: Any) -> None:
    forked.in_pool_process()


@signals.worker_ready.connect
def on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    if sender is not None:
        _registration.start(sender)


@signals.worker_shutdown.connect
def on_worker_shutdown(sender: Any = None, **kwargs: Any) -> None:
    _registration.finish()
    forked.remove_run_dir()


@control.control_command(
    name=TERMINATE_TRY_COMMAND,
    args=[("ti_id", str), ("try_number", int)],
    signature="<ti_id> <try_number> [task_id ...]",
)
def orchestrator_terminate_try(
    state: Any, ti_id: str = "", try_number: int = 0, task_ids: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Revoke the try's messages and kill its runner if it runs here."""
    if task_ids:
        control.revoke(state, list(task_ids))
    killed = kill_runner(ti_id, int(try_number))
    return {"ok": f"{'killed' if killed else 'not running here'}: {ti_id} try {try_number}"}


def kill_runner(ti_id: str, try_number: int) -> bool:
    """SIGKILL the runner of this try (its process group: the task process and what it started)
    if a pool thread of this worker runs it. The request is noted first, so a runner whose
    pool thread has not written its pid yet is killed by that thread (forked.run_try)."""
    request = forked.kill_file(ti_id, try_number)
    marker = forked.pid_file(ti_id, try_number)
    if request is None or marker is None:
        return False
    with contextlib.suppress(OSError):
        request.touch()
    try:
        pid = int(marker.read_text())
        pidfd = os.pidfd_open(pid)
    except (OSError, ValueError):
        return False
    try:
        # The pidfd pins the process; the marker still being there means it is still our
        # runner (the pool thread removes it only after reaping the runner).
        if not marker.exists():
            return False
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        log.warning("terminated try %s (try %d): runner pid %d killed", ti_id, try_number, pid)
        return True
    finally:
        os.close(pidfd)
