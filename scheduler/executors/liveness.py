"""Whether a try may still be running on this host: for the scheduler's health step, which must
not fail and reschedule a try while a copy of it could still be alive (issue 9, "Fencing").

Every runner holds its task instance's fence (scheduler/runner/fencing.py: an abstract Unix
socket, freed by the kernel only when the runner and its task process have both exited) from
before its task process starts until everything it started is gone. So "the fence is free" rules
out a live copy on this host, without pids (no pid-reuse question) and without files.
"""

from __future__ import annotations

import socket

from scheduler.runner.fencing import fence_is_held


def try_may_still_run_here(ti_id: str, hostname: str | None = None) -> bool:
    """True while a runner or task process of task instance `ti_id` is alive on this host.

    `hostname` is the one the try's claim recorded: a try claimed on another host cannot be
    ruled in or out from here (False; its heartbeat timeout decides there)."""
    if hostname and hostname != socket.gethostname():
        return False
    return fence_is_held(str(ti_id))
