"""The API server's end of the bus's "events" topic: change events from every process (scheduler,
CLI commands, other API-server workers, this one; of this host on the local bus, of every host
over PostgreSQL NOTIFY) re-published into this process's in-memory channel layer, so open pages
hear them without Redis.

With ORCH_REDIS_URL set, events go through channels-redis directly and this bridge stays off.

One `bus.Listener("events")` per process, read by the running asyncio loop
(`loop.add_reader`): no thread, and a datagram costs one callback. Started lazily by the ASGI
app (`ensure_started()`), once per process; if the app is later served by another loop (tests
call the app from several), the reader moves to that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading

from django.conf import settings

from dagruns.notify import bus
from dagruns.notify.events import TOPIC, groups_for

log = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict = {"listener": None, "loop": None, "pid": None, "home": None}


def ensure_started() -> bool:
    """Attach the bridge to the running loop (call from inside it). True when it is active."""
    if settings.REDIS_URL:
        return False
    loop = asyncio.get_running_loop()
    home = str(settings.ORCH.home)
    with _lock:
        listener = _state["listener"]
        if _state["pid"] != os.getpid() or _state["home"] != home:
            # A fork inherited the parent's socket, or tests moved ORCH_HOME: start afresh.
            if listener is not None and _state["pid"] == os.getpid():
                _detach(listener)
                listener.close()
            listener = bus.Listener(TOPIC)
            _state.update(listener=listener, loop=None, pid=os.getpid(), home=home)
        if _state["loop"] is loop and not loop.is_closed():
            return True
        _detach(listener)
        loop.add_reader(listener.fileno(), _on_readable, listener, loop)
        _state["loop"] = loop
    return True


def _detach(listener: bus.Listener) -> None:
    old = _state["loop"]
    if old is None or old.is_closed():
        return
    with contextlib.suppress(Exception):
        if old.is_running() and old is not _running_loop():
            old.call_soon_threadsafe(old.remove_reader, listener.fileno())
        else:
            old.remove_reader(listener.fileno())
    _state["loop"] = None


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _on_readable(listener: bus.Listener, loop: asyncio.AbstractEventLoop) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    for payload in listener.receive_all():
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("ignored a malformed event datagram")
            continue
        message = {"type": "orch.event", "event": event}
        for group in groups_for(event):
            loop.create_task(layer.group_send(group, message))


def stop() -> None:
    """Detach and close (tests; a process exiting just lets the socket go)."""
    with _lock:
        listener = _state["listener"]
        if listener is not None and _state["pid"] == os.getpid():
            _detach(listener)
            listener.close()
        _state.update(listener=None, loop=None, pid=None, home=None)


class BridgeStarter:
    """ASGI middleware: starts the bridge on the first scope (or at lifespan startup)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            ensure_started()
        except OSError:
            log.warning("local event bus unavailable: pages fall back to polling", exc_info=True)
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return await self.app(scope, receive, send)
