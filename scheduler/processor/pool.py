"""Running many parser subprocesses at once, each with a hard time limit (no database).

Parser processes are forked from a multiprocessing *forkserver* that has pre-imported the SDK:
starting one costs a fork (milliseconds), not a fresh interpreter, and it inherits nothing from
the processor's Django process (no open database connections, no threads). Each parser leads its
own process group, so a timed-out file is killed together with anything it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from scheduler.forkserver import forkserver_context
from scheduler.processor.parse_requests import answer_parse_request
from scheduler.processor.parse_runtime import is_request

log = logging.getLogger(__name__)

# The import-time alarm fires at the timeout; if user code swallows it (a bare except in a
# loop) or is stuck in C, the parent kills the process group this much later.
HARD_KILL_GRACE = 2.0


@dataclass
class _Running:
    path: str
    process: Any
    conn: Connection
    deadline: float


class ParsingPool:
    """Parses files in up to `processes` concurrent subprocesses and yields each result dict
    (see scheduler.processor.parsing) as soon as it is ready."""

    def __init__(
        self,
        processes: int,
        timeout: float,
        extra_sys_path: list[str],
        executors: list[str] | None = None,
    ) -> None:
        self.processes = max(1, processes)
        self.timeout = timeout
        self.extra_sys_path = extra_sys_path
        # The configured executors a task may name (None: not checked).
        self.executors = executors
        self._ctx = forkserver_context()

    def parse(self, paths: Iterable[str]) -> Iterator[dict[str, Any]]:
        pending = list(paths)
        pending.reverse()  # pop() from the end keeps the caller's order
        running: list[_Running] = []
        try:
            while pending or running:
                while pending and len(running) < self.processes:
                    running.append(self._start(pending.pop()))
                yield from self._collect(running)
        finally:
            for job in running:  # the consumer stopped early: leave nothing behind
                self._kill(job)

    def _start(self, path: str) -> _Running:
        from scheduler.processor.parsing import parse_in_child

        # Duplex: the parser also asks for variables and connections (parse_runtime.py).
        receiver, sender = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=parse_in_child,
            args=(path, sender, self.timeout, self.extra_sys_path, self.executors),
            daemon=True,
            name=f"dag-parser:{os.path.basename(path)}",
        )
        process.start()
        sender.close()
        return _Running(path, process, receiver, time.monotonic() + self.timeout + HARD_KILL_GRACE)

    def _collect(self, running: list[_Running]) -> Iterator[dict[str, Any]]:
        nearest = min(job.deadline for job in running)
        ready = wait([job.conn for job in running], timeout=max(0.0, nearest - time.monotonic()))
        now = time.monotonic()
        for job in list(running):
            if job.conn in ready:
                result = self._receive(job)
                if result is None:
                    continue  # it was a request, answered; the parser goes on
                running.remove(job)
                yield result
            elif now >= job.deadline:
                running.remove(job)
                self._kill(job)
                yield _failure(
                    job.path,
                    f"importing the DAG file took longer than {self.timeout:g} s "
                    f"(ORCH_DAG_FILE_PROCESSOR_TIMEOUT) and the parser was killed",
                )

    def _receive(self, job: _Running) -> dict[str, Any] | None:
        """The parser's result (its process reaped), or None after answering a request."""
        try:
            result = job.conn.recv()
        except (EOFError, OSError):
            job.process.join(1.0)
            code = job.process.exitcode
            reason = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
            result = _failure(job.path, f"the parser process died while importing ({reason})")
        if is_request(result):
            _, op, arguments = result
            # If the parser died meanwhile, its EOF comes with the next wait().
            with contextlib.suppress(OSError):
                job.conn.send(answer_parse_request(job.path, op, arguments))
            return None
        job.conn.close()
        job.process.join(5.0)
        if job.process.is_alive():
            self._kill(job)
        return result

    def _kill(self, job: _Running) -> None:
        pid = job.process.pid
        if pid is not None:
            # Not yet a group leader right after start: the plain kill below covers that.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if job.process.is_alive():
            job.process.kill()
        job.process.join(5.0)
        job.conn.close()


def _failure(path: str, message: str) -> dict[str, Any]:
    return {
        "fileloc": path,
        "vanished": not os.path.exists(path),
        "mentions_dag": True,
        "dags": [],
        "error": {"message": message, "line_number": None, "stack_trace": message},
        "source_code": "",
        "source_hash": "",
        "mtime": 0.0,
        "size": 0,
        "duration": 0.0,
    }
