"""Is the process a try or a scheduler recorded still the one running? Only answerable on the
host that recorded it: a pid means nothing elsewhere (those are left to heartbeat timeouts).

A pid alone is not enough — after a restart the kernel may have given it to another process —
so the process must also have started no later than the moment it recorded itself (a runner's
claim, a scheduler's job start): a younger process with that pid is someone else.
(Helper "runner" adds the runner's own liveness record; this is the scheduler's fallback.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from datetime import datetime

import psutil

# Process start times come from clock ticks since boot (1/100 s) and the boot time's rounding.
START_TIME_TOLERANCE = 1.0


def this_host() -> str:
    return socket.gethostname()


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


def rule_out_runner(hostname: str, pid: int | None, claimed_at: datetime | None) -> bool:
    """True when the runner that claimed a try cannot be running any more, so the try may be
    failed and retried without two copies at once. A runner still alive on this host is
    killed (with its process group, which it leads) and ruled out on a later call, once gone;
    a runner on another host cannot be checked from here: its silence is all we have."""
    if hostname != this_host() or not process_alive(pid, claimed_at):
        return True
    assert pid is not None
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    return not process_alive(pid, claimed_at)
