"""The bus reaches listeners of every host: Redis pub/sub when ORCH_REDIS_URL is set, PostgreSQL
NOTIFY on PostgreSQL without Redis, the local datagram bus otherwise. A "host" here is an
ORCH_HOME: the local bus is per ORCH_HOME, so listeners of two homes hear each other only
through Redis or PostgreSQL."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from dagruns.notify import bus, localbus
from dagruns.notify.wakeup import WakeReceiver, wake_schedulers
from tests.brokers import redis_server  # noqa: F401
from tests.polling import wait_until
from tests.processes import database_url

ROOT = Path(__file__).resolve().parents[3]


def readable(listener, timeout: float) -> bool:
    return bool(select.select([listener], [], [], timeout)[0])


def heard(listener, timeout: float = 30.0) -> list[bytes]:
    """What reached `listener` (waiting up to `timeout` for the first message)."""
    readable(listener, timeout)
    return listener.receive_all()


class Hosts:
    """Listeners as processes of different hosts (each its own ORCH_HOME)."""

    def __init__(self, orch_settings, root: Path) -> None:
        self.orch_settings = orch_settings
        self.root = root
        self.listeners: list[bus.Listener] = []

    def at(self, host: str) -> None:
        """Act as a process of `host` from now on."""
        self.orch_settings.home = self.root / host

    def listen(self, host: str, topic: str = "wake", resync: bytes | None = None) -> bus.Listener:
        self.at(host)
        listener = bus.Listener(topic, resync=resync)
        self.listeners.append(listener)
        return listener

    def scheduler(self, host: str) -> WakeReceiver:
        self.at(host)
        receiver = WakeReceiver()
        self.listeners.append(receiver)
        return receiver


@pytest.fixture
def hosts(orch_settings, tmp_path):
    made = Hosts(orch_settings, tmp_path)
    yield made
    for listener in made.listeners:
        listener.close()


@pytest.fixture
def with_redis(settings, redis_server):  # noqa: F811
    settings.REDIS_URL = redis_server.url
    return redis_server


@pytest.mark.sqlite_only
def test_without_redis_on_sqlite_the_local_bus_reaches_only_its_own_host(hosts):
    if connection.vendor != "sqlite":
        pytest.skip("the local bus is the transport on SQLite only")
    here, elsewhere = hosts.listen("a"), hosts.listen("b")
    assert here.transport == bus.LOCAL
    hosts.at("a")
    wake_schedulers()
    assert heard(here) == [b"w"]
    assert not readable(elsewhere, 0.3)


def test_with_redis_a_wake_up_reaches_schedulers_of_every_host(hosts, with_redis):
    a, b = hosts.scheduler("a"), hosts.scheduler("b")
    assert a.transport == b.transport == bus.REDIS
    hosts.at("c")  # published by a process of a third host
    wake_schedulers()
    assert heard(a) == [b"w"] and heard(b) == [b"w"]
    assert a.drain() == b.drain() == 0


def test_a_wake_up_published_right_after_subscribing_reaches_every_listener(hosts, with_redis):
    """Regression: a relay that let its Redis client be garbage-collected lost its connection
    right after subscribing (redis-py closes the client's pool) and reconnected on its next
    read, missing what was published in between — most times, not always: so ten rounds."""
    for round_ in range(10):
        listeners = [hosts.scheduler(f"{round_}-{i}") for i in range(2)]
        hosts.at("publisher")
        wake_schedulers()
        assert [heard(listener) for listener in listeners] == [[b"w"], [b"w"]], round_
        for listener in listeners:
            listener.close()


def test_redis_channels_carry_the_database_number_so_deployments_do_not_mix():
    assert bus.redis_channel("wake", "redis://h:6379/0") == "orch.wake.db0"
    assert bus.redis_channel("wake", "redis://h:6379/3") == "orch.wake.db3"
    assert bus.redis_channel("events", "redis://h:6379") == "orch.events.db0"


def test_a_listener_of_another_redis_database_hears_nothing(hosts, settings, redis_server):  # noqa: F811
    settings.REDIS_URL = redis_server.url.rsplit("/", 1)[0] + "/1"
    other = hosts.listen("a")
    settings.REDIS_URL = redis_server.url
    mine = hosts.listen("b")
    bus.publish("wake", b"w")
    assert heard(mine) == [b"w"]
    assert not readable(other, 0.3)


def test_a_redis_restart_is_survived_with_one_wake_up_for_what_was_missed(hosts, with_redis):
    receiver = hosts.listen("a", resync=b"w")
    with_redis.restart()  # the subscription's connection drops; nothing kept
    # On reconnecting the relay injects one wake-up: whatever was published meanwhile is
    # picked up by the tick it causes.
    assert heard(receiver, timeout=60) == [b"w"]
    wait_until(lambda: receiver.connected, "the relay reconnected", timeout=60)
    hosts.at("b")
    bus.publish("wake", b"again")
    assert heard(receiver) == [b"again"]


def test_publish_never_raises_when_redis_is_down(hosts, with_redis):
    with_redis.stop()
    bus.publish("wake", b"w")  # logged, not raised


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_without_redis_a_wake_up_reaches_every_host_after_commit(hosts):
    a, b = hosts.listen("a", resync=b"w"), hosts.listen("b")
    assert a.transport == b.transport == bus.POSTGRES
    hosts.at("c")
    with transaction.atomic():
        wake_schedulers()
        assert not readable(a, 0.3)  # NOTIFY is delivered at commit
    assert heard(a) == [b"w"] and heard(b) == [b"w"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_rolled_back_wake_up_reaches_nobody(hosts):
    a = hosts.listen("a")
    with pytest.raises(RuntimeError), transaction.atomic():
        wake_schedulers()
        raise RuntimeError("roll back")
    assert not readable(a, 0.3)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_dropped_listen_connection_reconnects_and_wakes_once(hosts):
    receiver = hosts.listen("a", resync=b"w")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'orchestrator-bus' "
            "AND pid <> pg_backend_pid()"
        )
    assert heard(receiver, timeout=60) == [b"w"]
    wait_until(lambda: receiver.connected, "the relay reconnected", timeout=60)
    bus.publish("wake", b"again")
    assert heard(receiver) == [b"again"]


@pytest.mark.django_db(transaction=True)
def test_a_wake_up_from_another_process_of_another_host_arrives(hosts, tmp_path, settings):
    """A real second process (another ORCH_HOME, the same database): on SQLite it reaches only
    its own host's listeners, on PostgreSQL every host's."""
    receiver = hosts.listen("a")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORCH_")},
        "ORCH_HOME": str(tmp_path / "b"),
        "ORCH_DATABASE_URL": database_url(),
    }
    subprocess.run(
        [
            sys.executable, str(ROOT / "manage.py"), "shell", "-c",
            "from dagruns.notify.wakeup import wake_schedulers; wake_schedulers()",
        ],
        env=env, cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    if connection.vendor == "postgresql":
        assert heard(receiver) == [b"w"]
    else:
        assert not readable(receiver, 0.3)


def test_closing_a_listener_closes_its_relay(hosts, with_redis):
    listener = hosts.listen("a")
    relay = listener._relay
    listener.close()
    assert relay is not None and not relay.is_alive()


def test_the_local_bus_listener_knows_its_own_address(orch_settings, tmp_path):
    orch_settings.home = tmp_path
    listener = localbus.Listener("t")
    try:
        assert listener.sock.getsockname() == listener.address.encode()
    finally:
        listener.close()
