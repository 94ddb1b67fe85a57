"""Network namespaces for tests: another "host" on this machine whose network reaches only what
the test lets it (e.g. a Celery worker that reaches Redis and the API server, not PostgreSQL).

`netns` (a fixture) gives a fresh namespace joined to this host by a veth pair on a /30 of its
own: the host end is `host_ip`, the namespace's end `ns_ip`; inside, 127.0.0.1 is the
namespace's own loopback, so a server this host binds to 127.0.0.1 only (the machine's
PostgreSQL) is out of reach, while one bound to `host_ip` is reachable. Nothing else is routed.

Needs root and `ip netns` (iproute2); the fixture skips with the reason where either is missing.
Tests run concurrently (pytest -n 2, several CI runs at once), so names carry this process's pid
and random hex (veth names must stay within Linux's 15 characters), subnets are chosen under a
machine-wide lock among those no interface uses, and teardown always kills what runs inside and
deletes the namespace (which takes both veth ends with it). Namespaces left by a test process
that died (SIGKILL) are removed by the next fixture that runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

IP = shutil.which("ip") or "/usr/sbin/ip"
PREFIX = "orchtest"
POOL = ipaddress.ip_network("10.213.0.0/16")  # carved into /30s, one per namespace
LOCK = Path("/tmp/orch-netns.lock")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([IP, *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable() -> str | None:
    """Why namespaces cannot be used here (None: they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if not Path(IP).exists():
        return "the `ip` command (iproute2) is not installed"
    probe = f"{PREFIX}-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` is not permitted here: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


class Namespace:
    """One namespace and its veth pair (see the module docstring)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.name = f"{PREFIX}-{os.getpid()}-{tag}"
        self.host_if = f"oh{tag}"
        self.ns_if = f"on{tag}"
        self.host_ip = ""
        self.ns_ip = ""

    def create(self) -> None:
        LOCK.touch(exist_ok=True)
        with LOCK.open("r") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # subnets are chosen one namespace at a time
            subnet = _free_subnet()
            host, peer = list(subnet.hosts())
            self.host_ip, self.ns_ip = str(host), str(peer)
            _ip("netns", "add", self.name)
            try:
                _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
                _ip("link", "set", self.ns_if, "netns", self.name)
                _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
                _ip("link", "set", self.host_if, "up")
                self.exec_ip("addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
                self.exec_ip("link", "set", self.ns_if, "up")
                self.exec_ip("link", "set", "lo", "up")
            except BaseException:
                self.close()
                raise

    def exec_ip(self, *args: str) -> None:
        _ip("-n", self.name, *args)

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as run inside the namespace."""
        return [IP, "netns", "exec", self.name, *argv]

    def popen(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(argv), **kwargs)

    def can_connect(self, host: str, port: int, timeout: float = 3.0) -> bool:
        """Whether a TCP connection from inside the namespace to host:port succeeds."""
        probe = (
            "import socket, sys\n"
            f"s = socket.socket(); s.settimeout({timeout})\n"
            f"sys.exit(0 if s.connect_ex(({host!r}, {port})) == 0 else 1)\n"
        )
        done = subprocess.run(
            self.command([sys.executable, "-c", probe]), capture_output=True, timeout=60
        )
        return done.returncode == 0

    def pids(self) -> list[int]:
        done = _ip("netns", "pids", self.name, check=False)
        return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []

    def close(self) -> None:
        """Kill whatever runs inside, then delete the namespace (and with it the veth pair)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _ip("netns", "del", self.name, check=False)
        _ip("link", "del", self.host_if, check=False)  # gone already unless the move failed

    def exists(self) -> bool:
        return self.name in _ip("netns", "list").stdout.split()


def _free_subnet() -> ipaddress.IPv4Network:
    used = [
        ipaddress.ip_interface(address).network
        for address in re.findall(r"inet (\S+)", _ip("-o", "-4", "addr", "show").stdout)
    ]
    for subnet in POOL.subnets(new_prefix=30):
        if not any(subnet.overlaps(net) for net in used):
            return subnet
    raise RuntimeError(f"no free /30 left in {POOL} for a test namespace")


def remove_orphans() -> None:
    """Delete namespaces of test processes that died before their teardown."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(rf"{PREFIX}-(\d+)-[0-9a-f]+", name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            orphan = Namespace()
            orphan.name = name
            orphan.host_if = orphan.ns_if = ""
            for pid in orphan.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _ip("netns", "del", name, check=False)


@pytest.fixture
def netns() -> Iterator[Namespace]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    remove_orphans()
    namespace = Namespace()
    namespace.create()
    try:
        yield namespace
    finally:
        namespace.close()
