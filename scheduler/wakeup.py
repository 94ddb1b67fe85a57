"""Waking schedulers the moment something they care about happens (a task finished, a run was
triggered) instead of waiting for their next poll.

On one host this is a Unix datagram to each live scheduler: it costs microseconds, needs no
server, and a lost datagram only means the scheduler notices on its next poll. Schedulers register
by creating a file named after their pid under ORCH_HOME/run/wake/; their socket lives in Linux's
abstract namespace (no path-length limit, vanishes with the process).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from pathlib import Path

from django.conf import settings


def _registry() -> Path:
    return Path(settings.ORCH["HOME"]) / "run" / "wake"


def _address(pid: int) -> str:
    home = hashlib.sha1(str(settings.ORCH["HOME"]).encode()).hexdigest()[:12]
    return f"\0orch-wake-{home}-{pid}"


def wake_schedulers() -> int:
    """Nudge every registered scheduler; returns how many were reached. Never raises."""
    try:
        entries = os.listdir(_registry())
    except OSError:
        return 0
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in entries:
            if not name.isdigit():
                continue
            try:
                sender.sendto(b"w", _address(int(name)))
                reached += 1
            except (ConnectionRefusedError, FileNotFoundError):
                # The scheduler is gone: drop its registration.
                with contextlib.suppress(OSError):
                    (_registry() / name).unlink()
            except (BlockingIOError, OSError):
                reached += 1  # its queue is full: it is awake already
    return reached


class WakeReceiver:
    """A scheduler's end: `fileno()` becomes readable when someone called wake_schedulers()."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(_address(self.pid))
        self.sock.setblocking(False)
        _registry().mkdir(parents=True, exist_ok=True)
        (_registry() / str(self.pid)).touch()

    def fileno(self) -> int:
        return self.sock.fileno()

    def drain(self) -> int:
        """Consume pending wake-ups; returns how many there were."""
        count = 0
        while True:
            try:
                self.sock.recv(64)
                count += 1
            except (BlockingIOError, InterruptedError):
                return count

    def close(self) -> None:
        with contextlib.suppress(OSError):
            (_registry() / str(self.pid)).unlink()
        self.sock.close()
