"""The network-namespace helper (tests/netns.py): a namespace reaches servers bound to its
host end and nothing bound to this host's loopback; two at once get their own names and
subnets; teardown and the orphan sweep leave no namespace or interface behind."""

from __future__ import annotations

import ipaddress
import socket
import subprocess

from tests import netns as netns_module
from tests.netns import Namespace, netns  # noqa: F401


def listening(address: str) -> socket.socket:
    server = socket.socket()
    server.bind((address, 0))
    server.listen()
    return server


def interfaces() -> str:
    return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout


def test_a_namespace_reaches_its_host_end_but_not_this_hosts_loopback(netns):  # noqa: F811
    on_veth, on_loopback = listening(netns.host_ip), listening("127.0.0.1")
    try:
        assert netns.can_connect(netns.host_ip, on_veth.getsockname()[1])
        assert not netns.can_connect("127.0.0.1", on_loopback.getsockname()[1])
        assert not netns.can_connect(netns.host_ip, on_loopback.getsockname()[1])
    finally:
        on_veth.close()
        on_loopback.close()


def test_two_namespaces_get_their_own_names_and_subnets_and_leave_nothing_behind(netns):  # noqa: F811
    other = Namespace()
    other.create()
    try:
        assert other.name != netns.name and other.host_if != netns.host_if
        assert len(other.host_if) <= 15 and len(other.ns_if) <= 15
        mine = ipaddress.ip_interface(f"{netns.host_ip}/30").network
        theirs = ipaddress.ip_interface(f"{other.host_ip}/30").network
        assert not mine.overlaps(theirs)
        assert other.exists() and other.host_if in interfaces()
    finally:
        other.close()
    assert not other.exists()
    assert other.host_if not in interfaces()


def test_namespaces_of_a_dead_test_process_are_swept(netns):  # noqa: F811
    child = subprocess.Popen(["true"])
    child.wait()
    orphan = Namespace()
    orphan.name = f"{netns_module.PREFIX}-{child.pid}-{'ab' * 5}"
    orphan.host_if = orphan.ns_if = ""
    subprocess.run(["ip", "netns", "add", orphan.name], check=True)
    try:
        netns_module.remove_orphans()
        assert not orphan.exists()
        assert netns.exists()  # a live process's namespace stays
    finally:
        subprocess.run(["ip", "netns", "del", orphan.name], capture_output=True)
