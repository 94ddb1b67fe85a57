"""The registry of live Celery workers: one Redis key per worker, on the broker's Redis.

Each worker writes its key (its name, host, queues, concurrency, pid) when it is ready and
refreshes it every `REFRESH` seconds with a time-to-live of `TTL`; a worker that stops deletes
it, a worker that dies lets it expire. The key is how "why is it waiting" (dagruns/actions/
waiting.py, through dagruns/domain/workers.py) can say that a queued try's queue has no live
worker, without a broadcast to every worker on each page view.

Django-free: the worker writes (scheduler/worker/hooks.py), the domain reads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis

KEY_PREFIX = "orchestrator:worker:"
REFRESH = 10.0
TTL = 30


@dataclass(frozen=True)
class WorkerRecord:
    """What a live worker says about itself."""

    name: str
    hostname: str
    queues: tuple[str, ...]
    concurrency: int
    pid: int
    started: float = 0.0

    def to_json(self) -> str:
        data = asdict(self)
        data["queues"] = list(self.queues)
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | bytes) -> WorkerRecord | None:
        try:
            data = json.loads(raw)
            return cls(
                name=str(data["name"]),
                hostname=str(data.get("hostname", "")),
                queues=tuple(str(q) for q in data.get("queues", ())),
                concurrency=int(data.get("concurrency", 0)),
                pid=int(data.get("pid", 0)),
                started=float(data.get("started", 0.0)),
            )
        except (ValueError, KeyError, TypeError):
            return None  # a foreign or older key: not ours to interpret


def key(name: str) -> str:
    return KEY_PREFIX + name


def client(url: str, timeout: float = 2.0) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def register(conn: redis.Redis, record: WorkerRecord) -> None:
    conn.set(key(record.name), record.to_json(), ex=TTL)


def unregister(conn: redis.Redis, name: str) -> None:
    conn.delete(key(name))


def live_workers(conn: redis.Redis) -> list[WorkerRecord]:
    """Every worker whose key has not expired, by name."""
    keys = list(conn.scan_iter(match=KEY_PREFIX + "*", count=500))
    if not keys:
        return []
    records = [WorkerRecord.from_json(raw) for raw in conn.mget(keys) if raw is not None]
    return sorted((r for r in records if r is not None), key=lambda r: r.name)
