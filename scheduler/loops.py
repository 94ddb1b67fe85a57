"""The tick loop every long-running engine process is built on (scheduler, DAG processor, the
triggerer to come).

A loop is one testable tick, `run_once()`, which returns a report whose `work` says how much it
did. `run_forever()` repeats it under a heartbeat row (dagruns.domain.jobs), sleeping only when a
tick did nothing, and stops cleanly on SIGTERM/SIGINT. The sleep is not a fixed poll: it waits on
whatever `wake_handles()` returns (the scheduler's wake-up socket and its runners' exit
sentinels) plus a self-pipe that `stop()` writes to, so a signal ends the wait at once too.
`idle_timeout()` caps the wait (the next retry falling due, the processor's refresh interval).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import wait
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from django.db import close_old_connections

from dagruns.domain.jobs import end_job, heartbeat, start_job
from dagruns.models import Job

log = logging.getLogger(__name__)


class TickReport(Protocol):
    """What every tick returns: how much it did (0 means idle, so the loop may sleep)."""

    @property
    def work(self) -> int: ...


ReportT = TypeVar("ReportT", bound=TickReport)


class TickLoop(ABC, Generic[ReportT]):
    """Base of a long-running loop: subclasses write `run_once()` and, if they can be woken
    by something other than a stop, `wake_handles()` and `idle_timeout()`."""

    #: The Job row's type ("scheduler", "dag_processor", "triggerer").
    job_type: ClassVar[str]
    #: Seconds between heartbeats of the Job row.
    heartbeat_every: float = 5.0

    def __init__(self) -> None:
        # A plain attribute, not a threading.Event: stop() runs in signal handlers, which may
        # interrupt the main thread (or another handler) anywhere, and Event.set() takes a
        # lock that the interrupted code may be holding: a deadlock. Setting an attribute is
        # atomic; the pipe below wakes a sleeping loop.
        self._stop_requested = False
        # stop() may run in a signal handler while the loop sleeps in select(): writing one
        # byte to this pipe ends that sleep (Python retries select() after a handler
        # otherwise). Open only while the loop runs, so idle loop objects hold no fds.
        self._stop_pipe: tuple[int, int] | None = None
        self.job: Job | None = None
        self._last_heartbeat = 0.0  # monotonic time of the Job row's last heartbeat

    # -- what subclasses write -----------------------------------------------------------

    @abstractmethod
    def run_once(self) -> ReportT:
        """One tick: do what is due and say how much that was."""

    def wake_handles(self) -> list[Any]:
        """Objects (sockets, fds, sentinels) whose readiness should end an idle wait."""
        return []

    def idle_timeout(self) -> float:
        """The longest an idle loop sleeps before ticking again anyway."""
        return 1.0

    def describe(self, report: ReportT) -> str | None:
        """A log line for a tick that did work (None: say nothing)."""
        return None

    @contextmanager
    def running(self) -> Iterator[None]:
        """Held around the whole loop: set up before the first tick, torn down after the
        last (the scheduler's executor and wake receiver live here)."""
        yield

    # -- the loop, written once ----------------------------------------------------------

    def run_forever(self) -> None:
        """Tick until stop() or SIGTERM/SIGINT, under a heartbeat row of `job_type`."""
        previous = self.install_signal_handlers()
        try:
            self.run_until(lambda _report: False, job_type=self.job_type)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def run_until(
        self,
        done: Callable[[ReportT], bool],
        *,
        job_type: str | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Tick until `done(report)` says so (True), `timeout` seconds pass or stop() is
        called (False); between idle ticks wait as the module docstring says. With `job_type`,
        a Job row records this process's heartbeat while it runs."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.job = start_job(job_type) if job_type else None
        self._last_heartbeat = time.monotonic()
        state = "success"
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        self._stop_pipe = (read_end, write_end)
        try:
            with self.running():
                self.on_started()
                while not self._stop_requested:
                    report = self.tick()
                    if done(report):
                        return True
                    if deadline is not None and time.monotonic() > deadline:
                        return False
                    if report.work == 0:
                        self.sleep(self.idle_timeout())
                return False
        except BaseException:
            state = "failed"
            raise
        finally:
            self._stop_pipe = None
            os.close(read_end)
            os.close(write_end)
            if self.job:
                end_job(self.job, state)

    def tick(self) -> ReportT:
        """One tick with its bookkeeping: fresh connections, the report line when it did
        something, the Job row's heartbeat when due. Every loop of ours ticks through here
        (run_until, the scheduler's drain)."""
        close_old_connections()
        report = self.run_once()
        if report.work:
            line = self.describe(report)
            if line:
                logging.getLogger(type(self).__module__).info("%s", line)
        if self.job and time.monotonic() - self._last_heartbeat > self.heartbeat_every:
            heartbeat(self.job)
            self._last_heartbeat = time.monotonic()
        return report

    def on_started(self) -> None:
        """Runs once inside `running()`, before the first tick (the scheduler recovers what a
        previous incarnation left behind here)."""

    def sleep(self, timeout: float) -> None:
        """An idle tick's wait: until woken, stopped, or `timeout` seconds pass."""
        if not self._stop_requested:
            self.wait_for(self.wake_handles(), timeout)

    def wait_for(self, handles: list[Any], timeout: float) -> None:
        """Wait until one of `handles` is ready, stop() is called, or `timeout` passes. A
        stop already consumed is not seen again (a loop that keeps going after stop(), like
        the scheduler draining, can still wait)."""
        pipe = self._stop_pipe
        wait([*handles, *([pipe[0]] if pipe else [])], timeout=max(0.0, timeout))
        if pipe is not None:
            with suppress(BlockingIOError, OSError):
                os.read(pipe[0], 64)

    def stop(self) -> None:
        """Ask the loop to end after the current tick (safe from a signal handler)."""
        self._stop_requested = True
        pipe = self._stop_pipe
        if pipe is not None:
            with suppress(OSError):  # full (already woken) or just closed: either is fine
                os.write(pipe[1], b"x")

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def install_signal_handlers(self) -> dict[int, Any]:
        """SIGTERM and SIGINT call `on_signal()`; returns the handlers they replaced. Only the
        main thread may install handlers: a loop in another thread is stopped by its owner."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, _frame: self.on_signal(signum))
        return previous

    def on_signal(self, signum: int) -> None:
        """A stop signal arrived: stop (subclasses may first finish gracefully). Runs in a
        signal handler: no logging here (its lock may be held by the interrupted code)."""
        self.stop()
