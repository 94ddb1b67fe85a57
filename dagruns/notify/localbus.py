"""Datagrams between the orchestrator's processes on one host, with no server in between.

A *topic* ("wake", "events") has listeners: each registers by creating a file named after its
pid under ORCH_HOME/run/<topic>/ and binds a datagram socket in Linux's abstract namespace (no
path-length limit; it vanishes with the process). `send()` delivers a small payload to every
listener of a topic in microseconds and never blocks or raises: a lost datagram only means the
receiver notices on its next poll. Listeners that died are unregistered on the next send.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from pathlib import Path

from django.conf import settings

MAX_PAYLOAD = 60_000


def _registry(topic: str) -> Path:
    return settings.ORCH.home / "run" / topic


def _address(topic: str, pid: int) -> str:
    home = hashlib.sha1(str(settings.ORCH.home).encode()).hexdigest()[:12]
    return f"\0orch-{topic}-{home}-{pid}"


def send(topic: str, payload: bytes) -> int:
    """Deliver `payload` to every listener of `topic`; returns how many were reached."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"local bus payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    registry = _registry(topic)
    try:
        entries = os.listdir(registry)
    except OSError:
        return 0
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in entries:
            if not name.isdigit():
                continue
            try:
                sender.sendto(payload, _address(topic, int(name)))
                reached += 1
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    (registry / name).unlink()  # its process is gone
            except OSError:
                reached += 1  # queue full: it has plenty to read already
    return reached


class Listener:
    """One process's end of a topic: `fileno()` is readable when something was sent."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.pid = os.getpid()
        self.address = _address(topic, self.pid)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.address)
        self.sock.setblocking(False)
        _registry(topic).mkdir(parents=True, exist_ok=True)
        (_registry(topic) / str(self.pid)).touch()

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive_all(self) -> list[bytes]:
        """Every payload waiting now (non-blocking)."""
        payloads = []
        while True:
            try:
                payloads.append(self.sock.recv(MAX_PAYLOAD + 1))
            except (BlockingIOError, InterruptedError):
                return payloads

    def close(self) -> None:
        with contextlib.suppress(OSError):
            (_registry(self.topic) / str(self.pid)).unlink()
        self.sock.close()
