"""Whether a try may still be running on this host: the scheduler's health step and its recovery
at start must not fail, retry or re-queue a try while a copy of it could still be alive
(issue 9, "Fencing"). Only answerable on the host the try's claim recorded: a pid means nothing
elsewhere, and a try claimed on another host is left to its heartbeat timeout.

Two witnesses, both needed:
- the fence: every runner holds its task instance's fence (scheduler/runner/fencing.py: an
  abstract Unix socket the kernel frees only when the runner and its task process have both
  exited) from before its task process starts until everything it started is gone — no pids,
  no files, no pid-reuse question;
- the runner's pid with its start time, to find (and kill) a frozen runner: a pid alone is not
  enough after a restart, since the kernel may have given it to another process, so the process
  must have started no later than the moment it recorded itself (its claim).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from datetime import datetime

import psutil

from scheduler.runner.fencing import fence_is_held

# Process start times come from clock ticks since boot (1/100 s) and the boot time's rounding.
START_TIME_TOLERANCE = 1.0


def this_host() -> str:
    return socket.gethostname()


def try_may_still_run_here(ti_id: str, hostname: str | None = None) -> bool:
    """True while a runner or task process of task instance `ti_id` is alive on this host.

    `hostname` is the one the try's claim recorded: a try claimed on another host cannot be
    ruled in or out from here (False; its heartbeat timeout decides there)."""
    if hostname and hostname != this_host():
        return False
    return fence_is_held(str(ti_id))


def process_alive(pid: int | None, recorded_at: datetime | None) -> bool:
    """True when `pid` on this host is alive and started before `recorded_at`."""
    if not pid or pid <= 0 or pid == os.getpid():
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if recorded_at is None:
        return True
    return started <= recorded_at.timestamp() + START_TIME_TOLERANCE


def rule_out_runner(
    ti_id: str, hostname: str, pid: int | None, claimed_at: datetime | None
) -> bool:
    """True when nothing of the try that runner claimed can be running any more, so it may be
    failed and retried without two copies at once. A runner still alive on this host is killed
    (with its process group, which it leads; its task process dies with it) and ruled out on a
    later call, once it and its fence are gone. A runner on another host cannot be checked from
    here: its silence is all we have."""
    if hostname != this_host():
        return True
    if process_alive(pid, claimed_at):
        assert pid is not None
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return not process_alive(pid, claimed_at) and not fence_is_held(str(ti_id))
