"""The stand-in's etcd: objects, one cluster-wide resourceVersion counter, an event history and
the open watches.

Everything runs on one asyncio loop, so "replay the history, then register for live events"
is atomic (no await in between) and no event is lost or sent twice. Objects are never mutated
in place: every change stores a fresh dict, so an event's object is the state at that version.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduler.kube_standin.selectors import Predicate
from scheduler.kube_standin.statuses import already_exists, expired, not_found

Key = tuple[str, str, str]  # (plural, namespace or "", name)

# Bounded so a long benchmark does not grow without end; a watch older than this gets 410,
# which is what a real API server's watch cache does too.
HISTORY_LIMIT = 50_000


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    resource_version: int
    type: str  # ADDED | MODIFIED | DELETED
    plural: str
    obj: dict[str, Any]
    previous: dict[str, Any] | None


# What a watcher's queue carries: an event dict to send, or an instruction to end the stream.
END_CLEANLY = "end"
END_ABRUPTLY = "abort"


@dataclass(eq=False)
class Watcher:
    plural: str
    namespace: str | None
    matches: Predicate
    queue: asyncio.Queue[dict[str, Any] | str] = field(default_factory=asyncio.Queue)

    def offer(self, event: Event) -> None:
        """Queue `event` as this watch sees it: an object that leaves the selection is DELETED
        for this watcher, one that enters it is ADDED (the API server's watch cache does this)."""
        if event.plural != self.plural:
            return
        if self.namespace is not None and event.obj["metadata"].get("namespace") != self.namespace:
            return
        now = self.matches(event.obj)
        before = event.previous is not None and self.matches(event.previous)
        kind = event.type
        if kind == "MODIFIED":
            if now and not before:
                kind = "ADDED"
            elif before and not now:
                kind = "DELETED"
            elif not now:
                return
        elif not now:
            return
        self.queue.put_nowait({"type": kind, "object": event.obj})


class Store:
    def __init__(self) -> None:
        self.resource_version = 0
        self.objects: dict[Key, dict[str, Any]] = {}
        self.history: deque[Event] = deque()
        # A watch may resume from any resourceVersion >= this one; older ones get 410 Gone.
        self.oldest_resumable = 0
        self.watchers: set[Watcher] = set()

    # --- reads -------------------------------------------------------------------------------
    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self.objects.get((plural, namespace, name))
        if obj is None:
            raise not_found(plural, name)
        return obj

    def find(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    def list(self, plural: str, namespace: str | None, matches: Predicate) -> list[dict[str, Any]]:
        return [
            obj
            for (p, ns, _name), obj in sorted(self.objects.items())
            if p == plural and (namespace is None or ns == namespace) and matches(obj)
        ]

    # --- writes ------------------------------------------------------------------------------
    def create(self, plural: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        key = (plural, namespace, name)
        if key in self.objects:
            raise already_exists(plural, name)
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if namespace:
            meta["namespace"] = namespace
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        meta.pop("deletionTimestamp", None)
        self._store(key, obj, "ADDED", None)
        return obj

    def update(
        self, plural: str, namespace: str, name: str, change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Store a new version made by `change` on a copy of the current one."""
        key = (plural, namespace, name)
        previous = self.get(plural, namespace, name)
        obj = copy.deepcopy(previous)
        change(obj)
        self._store(key, obj, "MODIFIED", previous)
        return obj

    def remove(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        key = (plural, namespace, name)
        previous = self.get(plural, namespace, name)
        obj = copy.deepcopy(previous)
        del self.objects[key]
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        self._publish(Event(self.resource_version, "DELETED", plural, obj, previous))
        return obj

    def _store(
        self, key: Key, obj: dict[str, Any], kind: str, previous: dict[str, Any] | None
    ) -> None:
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        self.objects[key] = obj
        self._publish(Event(self.resource_version, kind, key[0], obj, previous))

    def _publish(self, event: Event) -> None:
        self.history.append(event)
        if len(self.history) > HISTORY_LIMIT:
            dropped = self.history.popleft()
            self.oldest_resumable = dropped.resource_version
        for watcher in list(self.watchers):
            watcher.offer(event)

    # --- watches -----------------------------------------------------------------------------
    def watch(
        self, plural: str, namespace: str | None, matches: Predicate, since: str | None
    ) -> Watcher | dict[str, Any]:
        """Open a watch; or, for a resourceVersion older than the history, the 410 Status."""
        watcher = Watcher(plural, namespace, matches)
        if not since or since == "0":
            # "Start at most recent": the current objects as ADDED, then what changes.
            for obj in self.list(plural, namespace, matches):
                watcher.queue.put_nowait({"type": "ADDED", "object": obj})
        else:
            requested = int(since)
            if requested < self.oldest_resumable:
                return expired(requested, self.oldest_resumable)
            for event in self.history:
                if event.resource_version > requested:
                    watcher.offer(event)
        self.watchers.add(watcher)
        return watcher

    def close_watch(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def drop_watches(self, abruptly: bool) -> int:
        """End every open watch stream; returns how many there were."""
        dropped = list(self.watchers)
        for watcher in dropped:
            watcher.queue.put_nowait(END_ABRUPTLY if abruptly else END_CLEANLY)
        self.watchers.clear()
        return len(dropped)

    def compact(self) -> int:
        """Forget the history: a watch from any resourceVersion before now gets 410 Gone."""
        self.history.clear()
        self.oldest_resumable = self.resource_version
        return self.resource_version
