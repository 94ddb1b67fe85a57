"""The bus that reaches every host: wake-ups and change events between schedulers, API servers
and the UI, on whichever transport the deployment has.

- ORCH_REDIS_URL set: Redis pub/sub (channel `orch.<topic>.db<N>`; pub/sub ignores Redis's
  database number, so the channel carries it: deployments sharing one Redis server are kept
  apart the way their Celery queues are).
- otherwise, on PostgreSQL: LISTEN/NOTIFY (channel `orch_<topic>`; NOTIFY is per database, so
  every process of one deployment, on any host, hears it).
- otherwise (SQLite, the embedded default, one host by nature): the local datagram bus
  (dagruns/notify/localbus.py) alone.

A `Listener` keeps the local bus's shape whatever the transport: one datagram socket whose
`fileno()` becomes readable when something was published (the scheduler waits on it with
select(), the API server's event bridge with the asyncio loop's add_reader). With Redis or
PostgreSQL a small relay thread holds the subscription (one connection) and feeds each message
into that socket. It subscribes before the constructor returns, so a message published after
the Listener exists is delivered. When the connection drops it reconnects with backoff
(0.5 s doubling to 5 s) and, for wake-ups, injects one wake-up on reconnecting: whatever was
published during the outage is then picked up by the woken scheduler's next tick (a missed
event only delays a page until its next refresh).

`publish()` never raises and never blocks long (Redis: 2 s socket timeouts; PostgreSQL: one
`pg_notify` on the ORM's connection, delivered when its transaction commits — callers publish
after commit). Each listening process holds one more connection (its relay's): on PostgreSQL
count it next to the ORM's pool (ORCH_DB_POOL_MAX_SIZE) when sizing `max_connections`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection

from dagruns.notify import localbus

log = logging.getLogger(__name__)

LOCAL, REDIS, POSTGRES = "local", "redis", "postgres"
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 5.0
SUBSCRIBE_TIMEOUT = 10.0  # how long a new Listener waits for its first subscription
REDIS_TIMEOUT = 2.0
POLL = 0.25  # a relay notices close() within this long
_client_lock = threading.Lock()
_clients: dict[tuple[int, str], Any] = {}


def transport() -> str:
    """Which transport this process publishes and listens on (module docstring)."""
    if settings.REDIS_URL:
        return REDIS
    if connection.vendor == "postgresql":
        return POSTGRES
    return LOCAL


def redis_channel(topic: str, url: str) -> str:
    from redis.connection import parse_url

    return f"orch.{topic}.db{int(parse_url(url).get('db', 0) or 0)}"


def postgres_channel(topic: str) -> str:
    return f"orch_{topic}"


def publish(topic: str, payload: bytes) -> None:
    """Deliver `payload` to every listener of `topic` on every host. Never raises: a lost
    message only means the receivers notice on their next poll."""
    kind = transport()
    try:
        if kind == REDIS:
            url = str(settings.REDIS_URL)
            _redis_client(url).publish(redis_channel(topic, url), payload)
        elif kind == POSTGRES:
            _notify(postgres_channel(topic), payload.decode())
        else:
            localbus.send(topic, payload)
    except Exception as exc:  # best effort by design (see above)
        log.warning("could not publish on the %s bus (%s): %s", kind, topic, exc)


def _notify(channel: str, payload: str) -> None:
    """NOTIFY on the ORM's connection (no connection of its own; inside a transaction it is
    delivered when that commits). Inside an event loop, where the ORM may not be used, from a
    short-lived thread that gives its connection back at once."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [channel, payload])
        return
    failure: list[BaseException] = []

    def notify_in_thread() -> None:
        try:
            _notify(channel, payload)
        except BaseException as exc:
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=notify_in_thread, name="bus-notify")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _redis_client(url: str) -> Any:
    import redis

    key = (os.getpid(), url)  # a forked child must not share its parent's sockets
    with _client_lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            _clients[key] = client
        return client


class Listener(localbus.Listener):
    """One process's end of `topic` on every host: `fileno()` is readable when something was
    published. `resync`: a payload to inject after the relay reconnects (messages published
    while it was away are lost; for wake-ups one wake-up stands in for all of them)."""

    def __init__(self, topic: str, resync: bytes | None = None) -> None:
        super().__init__(topic)
        self.transport = transport()
        self._relay: _Relay | None = None
        if self.transport == REDIS:
            url = str(settings.REDIS_URL)
            self._relay = _RedisRelay(self, url, redis_channel(topic, url), resync)
        elif self.transport == POSTGRES:
            self._relay = _PostgresRelay(self, postgres_channel(topic), resync)
        if self._relay is not None:
            self._relay.begin()

    @property
    def connected(self) -> bool:
        """False while a relay has no subscription (the local bus is always connected)."""
        return self._relay is None or self._relay.connected.is_set()

    def close(self) -> None:
        """Stop listening; the relay's connection is closed when this returns."""
        if self._relay is not None:
            self._relay.stopped.set()
            if self._relay.is_alive() and self._relay is not threading.current_thread():
                self._relay.join(POLL + REDIS_TIMEOUT + 5.0)
        super().close()


class _Relay(threading.Thread):
    """Holds one subscription and feeds what arrives into its Listener's socket."""

    def __init__(self, listener: Listener, channel: str, resync: bytes | None) -> None:
        super().__init__(name=f"bus-relay-{channel}", daemon=True)
        self.channel = channel
        self.resync = resync
        self.address = listener.address
        self.stopped = threading.Event()
        self.connected = threading.Event()
        self._attempted = threading.Event()
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)

    def begin(self) -> None:
        self.start()
        if not self._attempted.wait(SUBSCRIBE_TIMEOUT):
            log.warning("the %s subscription is not up yet; retrying in the background", self)

    def __str__(self) -> str:
        return f"{self.kind} {self.channel!r}"

    kind = "?"

    def run(self) -> None:
        backoff = BACKOFF_FIRST
        reconnecting = False
        down_logged = False
        try:
            while not self.stopped.is_set():
                try:
                    self.subscribe()
                    self.connected.set()
                    self._attempted.set()
                    if reconnecting:
                        log.info("%s subscription is back", self)
                        if self.resync is not None:
                            self.inject(self.resync)
                    backoff, down_logged = BACKOFF_FIRST, False
                    while not self.stopped.is_set():
                        for payload in self.receive(POLL):
                            self.inject(payload)
                except Exception as exc:
                    self.connected.clear()
                    self._attempted.set()
                    if self.stopped.is_set():
                        return
                    if not down_logged:
                        log.warning(
                            "lost the %s subscription (%s); reconnecting (wake-ups fall back "
                            "to polling meanwhile)",
                            self,
                            exc,
                        )
                        down_logged = True
                    reconnecting = True
                    self.disconnect()
                    self.stopped.wait(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
        finally:
            self.disconnect()
            self._sender.close()

    def inject(self, payload: bytes) -> None:
        with contextlib.suppress(OSError):  # the listener closed, or its queue is full
            self._sender.sendto(payload, self.address)

    def subscribe(self) -> None:
        raise NotImplementedError

    def receive(self, timeout: float) -> Iterator[bytes]:
        raise NotImplementedError

    def disconnect(self) -> None:
        raise NotImplementedError


class _RedisRelay(_Relay):
    kind = "Redis"

    def __init__(self, listener: Listener, url: str, channel: str, resync: bytes | None) -> None:
        super().__init__(listener, channel, resync)
        self.url = url
        self._client: Any = None
        self._pubsub: Any = None

    def subscribe(self) -> None:
        import redis

        # Kept on self: a Redis client that is garbage-collected closes its connection pool,
        # which would drop the subscription's connection right after it was confirmed (redis-py
        # then re-subscribes silently, and whatever is published in between is lost).
        self._client = redis.Redis.from_url(
            self.url,
            socket_connect_timeout=REDIS_TIMEOUT,
            # PINGs while idle, so a peer that vanished without closing is noticed.
            health_check_interval=10,
        )
        self._pubsub = self._client.pubsub()
        self._pubsub.subscribe(self.channel)
        # Wait for Redis to confirm: from then on every PUBLISH reaches us.
        while True:
            message = self._pubsub.get_message(timeout=REDIS_TIMEOUT)
            if message is None:
                raise ConnectionError("Redis did not confirm the subscription")
            if message["type"] == "subscribe":
                return

    def receive(self, timeout: float) -> Iterator[bytes]:
        message = self._pubsub.get_message(timeout=timeout)
        while message is not None:
            if message["type"] == "message":
                yield message["data"]
            message = self._pubsub.get_message(timeout=0)

    def disconnect(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        client, self._client = self._client, None
        for closable in (pubsub, client):
            if closable is not None:
                with contextlib.suppress(Exception):
                    closable.close()


class _PostgresRelay(_Relay):
    kind = "PostgreSQL"

    def __init__(self, listener: Listener, channel: str, resync: bytes | None) -> None:
        super().__init__(listener, channel, resync)
        self.params = _postgres_params()
        self._conn: Any = None

    def subscribe(self) -> None:
        import psycopg

        self._conn = psycopg.connect(**self.params, autocommit=True)
        self._conn.execute(f'LISTEN "{self.channel}"')

    def receive(self, timeout: float) -> Iterator[bytes]:
        for notify in self._conn.notifies(timeout=timeout):
            yield notify.payload.encode()

    def disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


# Options of Django's PostgreSQL backend that are not libpq connection parameters.
_DJANGO_ONLY_OPTIONS = {"pool", "isolation_level", "server_side_binding", "assume_role"}


def _postgres_params() -> dict[str, Any]:
    """libpq parameters of the default database, for a connection of our own (a LISTEN holds
    its connection for good, so it cannot be one of the ORM's pooled ones)."""
    db = connection.settings_dict
    params: dict[str, Any] = {
        key: value
        for key, value in (db.get("OPTIONS") or {}).items()
        if key not in _DJANGO_ONLY_OPTIONS
    }
    params.update(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        connect_timeout=5,
        application_name="orchestrator-bus",
    )
    return {key: value for key, value in params.items() if value is not None}
