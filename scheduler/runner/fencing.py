"""Fencing: a try's task process, and everything it started, never outlives its runner, and two
copies of one task instance never run at once on a host (issue 9, "Fencing").

Three Linux mechanisms (elsewhere they are skipped and the older watchdog remains):

* The runner is a *child subreaper* (`PR_SET_CHILD_SUBREAPER`): whatever the task starts and
  orphans — daemons, double forks, new sessions — is re-parented to the runner instead of to
  init, so at the try's end `kill_descendants()` finds and kills all of it (a detached child
  holding the task's stdout no longer delays the end by the drain timeout).
* The task process has a *parent-death signal* (`PR_SET_PDEATHSIG`, SIGKILL): when its runner
  dies, even by SIGKILL, the kernel kills the task process at once.
* A per-task-instance *fence*: an abstract Unix socket named after the task instance id, bound
  by the runner before it forks the task process (which inherits it). The kernel frees the name
  only when both have exited, so `fence_is_held()` tells the scheduler whether a copy may still
  be running on this host, and a new try's runner waits for an earlier copy to be gone before
  it forks its own task process. Nothing on disk, nothing to clean up after a crash.

Known limit: when the runner is SIGKILLed, descendants the task started in their own session
are re-parented above the runner (nobody is left to kill them); their task process is dead.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
FENCE_POLL = 0.02

_IS_LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(None, use_errno=True) if _IS_LINUX else None


def _prctl(option: int, value: int) -> bool:
    if _libc is None:
        return False
    return _libc.prctl(option, value, 0, 0, 0) == 0


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it (not to init)."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent_pid: int) -> bool:
    """Called in a freshly forked child: the kernel SIGKILLs it when its parent dies. Exits at
    once if the parent already died between the fork and this call. False where unsupported."""
    if not _prctl(PR_SET_PDEATHSIG, signal.SIGKILL):
        return False
    if os.getppid() != parent_pid:
        os._exit(1)
    return True


def children(pid: int | None = None) -> list[int]:
    """The direct children of `pid` (this process by default), from /proc."""
    pid = os.getpid() if pid is None else pid
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            # Bytes, not text: a text open looks its codec up, and in a freshly forked runner
            # that lookup cost more than the read (this runs at the end of every try).
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def descendants(pid: int | None = None) -> list[int]:
    """Every process below `pid`, parents before their children."""
    order: list[int] = []
    pending = children(pid)
    while pending:
        child = pending.pop()
        order.append(child)
        pending.extend(children(child))
    return order


def kill_descendants(timeout: float = 5.0) -> int:
    """SIGKILL and reap everything below this process (a subreaper, so that includes orphans it
    adopted). Returns how many processes were killed. Runs until none is left or `timeout`
    passed (a process stuck in the kernel cannot be reaped sooner)."""
    killed = 0
    deadline = time.monotonic() + timeout
    while True:
        _reap_ready()
        pending = descendants()
        if not pending or time.monotonic() >= deadline:
            return killed
        for pid in pending:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.002)


def _reap_ready() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _fence_address(ti_id: str) -> str:
    # Abstract namespace (leading NUL): no file, freed by the kernel with the last open socket.
    return f"\0orchestrator-try-fence:{ti_id}"


class Fence:
    """The runner's hold on "a copy of task instance `ti_id` runs here"."""

    def __init__(self, ti_id: str) -> None:
        self.ti_id = ti_id
        self.sock: socket.socket | None = None

    def acquire(self, wait: float) -> bool:
        """Take the fence, waiting up to `wait` seconds for an earlier copy to end."""
        deadline = time.monotonic() + wait
        while True:
            sock = _bind(self.ti_id)
            if sock is not None:
                self.sock = sock
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(FENCE_POLL)

    def release(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _bind(ti_id: str) -> socket.socket | None:
    if not _IS_LINUX:
        return socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # no fence: always free
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(_fence_address(ti_id))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            return None
        raise
    return sock


def fence_is_held(ti_id: str) -> bool:
    """Whether a runner or task process of task instance `ti_id` is alive on this host."""
    sock = _bind(ti_id)
    if sock is None:
        return True
    sock.close()
    return False
