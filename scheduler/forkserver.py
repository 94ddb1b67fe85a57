"""The one multiprocessing forkserver of a process, preloaded with what its children run, and a
way to ask it for a child without waiting for its answer.

Python keeps a single forkserver per process, started with the preload list in force at its
first use; the DAG processor and the local executor therefore ask for the same list, so
whichever starts it first, both get children that start in a fork.

`Process.start()` of a forkserver context sends the request, then blocks until the forkserver
has forked and written the child's pid back: 20-50 ms per child on a loaded machine, which the
scheduler's loop would spend waiting. `UnconfirmedProcess.start()` sends the same request and
returns; the pid arrives later on the process's sentinel (which becomes readable), and
`confirm()` reads it without blocking once it is there."""

from __future__ import annotations

import io
import multiprocessing
import os
import time
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import wait
from multiprocessing.context import ForkServerProcess, set_spawning_popen
from typing import Any

PRELOAD = [
    # The typed contracts (pydantic) first: no try pays for importing pydantic.
    "scheduler.runner.workload",
    "scheduler.runner.messages",
    "scheduler.processor.parsing",
    "scheduler.runner.supervisor",
    # The class of the process objects the local executor sends (unpickled by every runner).
    "scheduler.forkserver",
    "scheduler.forkserver_ready",
]

# The exit code multiprocessing gives a child whose forkserver died before reporting it.
FORKSERVER_GONE = 255


def forkserver_context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class _UnconfirmedPopen(popen_forkserver.Popen):
    """popen_forkserver.Popen whose launch does not wait for the pid (see the module
    docstring). `_launch` is CPython 3.11's minus its last line, `read_signed(sentinel)`.
    (multiprocessing's private parts have no type stubs: hence the ignores.)"""

    pid: int | None  # type: ignore[assignment]
    start_failed = False

    def _launch(self, process_obj: Any) -> None:
        self.pid = None
        prep_data = spawn.get_preparation_data(process_obj._name)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        _parent_w = os.dup(w)
        close_fds = util.close_fds  # type: ignore[attr-defined]
        self.finalizer = util.Finalize(self, close_fds, (_parent_w, self.sentinel))
        # A pipe holds 64 KiB: a bigger request blocks here until the child reads it, as
        # Process.start() does.
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())

    def confirm(self, block: bool = False) -> bool:
        """True once the forkserver answered: the pid, or `start_failed` when it ended first
        (the child's fate unknown; the exit code is then FORKSERVER_GONE)."""
        if self.pid is not None or self.start_failed:
            return True
        if not block and not wait([self.sentinel], 0):
            return False
        try:
            self.pid = forkserver.read_signed(self.sentinel)
        except (OSError, EOFError):
            self.start_failed = True
            self.returncode = FORKSERVER_GONE
        return True

    def poll(self, flag: int = os.WNOHANG) -> int | None:
        # The pid comes first on the sentinel, the exit code after it: never read one as
        # the other.
        if not self.confirm(block=flag != os.WNOHANG):
            return None
        return super().poll(flag)

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None and self.pid is None:
            deadline = None if timeout is None else time.monotonic() + timeout
            if timeout is not None and not wait([self.sentinel], timeout):
                return None
            self.confirm(block=True)
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())
        return super().wait(timeout)

    def _send_signal(self, sig: int) -> None:
        if self.confirm(block=True) and self.pid is not None:
            super()._send_signal(sig)  # type: ignore[misc]


class UnconfirmedProcess(ForkServerProcess):
    """A forkserver Process whose `start()` does not wait for the fork: `pid` is None until
    `confirm()` has read it. The executor that starts it confirms it, and kills it when it was
    terminated meanwhile. Its runners unpickle this class (PRELOAD imports it)."""

    @staticmethod
    def _Popen(process_obj: Any) -> _UnconfirmedPopen:
        return _UnconfirmedPopen(process_obj)

    def confirm(self, block: bool = False) -> bool:
        """Read the forkserver's answer if it is there (or wait for it with `block`); True
        once answered (`pid` set, or `start_failed`)."""
        popen = self._popen  # type: ignore[attr-defined]
        assert isinstance(popen, _UnconfirmedPopen), "confirm() of a process never started"
        return popen.confirm(block)

    @property
    def start_failed(self) -> bool:
        """The forkserver ended without answering: whether the child was forked is unknown."""
        popen = self._popen  # type: ignore[attr-defined]
        return isinstance(popen, _UnconfirmedPopen) and popen.start_failed
