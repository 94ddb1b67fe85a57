"""The live Celery workers and the queues they serve, as the worker registry has them
(orchestrator_site/worker_registry.py: a key per worker on the broker's Redis, written by the
worker, expiring when it dies). Read by "why is it waiting" (dagruns/actions/waiting.py).

The broker is found as the executor and the workers find it (orchestrator_site/broker.py), without
importing the Celery app into the API server."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings

from orchestrator_site import worker_registry
from orchestrator_site.broker import broker_url
from orchestrator_site.config import SettingError
from orchestrator_site.worker_registry import WorkerRecord

# A page must not wait on a broker that is down.
TIMEOUT = 0.5


@dataclass(frozen=True)
class WorkerCensus:
    """The live workers, or why they could not be counted (`problem`)."""

    workers: tuple[WorkerRecord, ...] = ()
    problem: str = ""

    def serving(self, queue: str) -> list[WorkerRecord]:
        return [w for w in self.workers if queue in w.queues]

    def served_queues(self) -> list[str]:
        return sorted({q for w in self.workers for q in w.queues})


def census() -> WorkerCensus:
    try:
        url = broker_url(settings.ORCH)  # the executor's and the workers' own answer
    except SettingError as exc:
        return WorkerCensus(problem=str(exc))
    conn = worker_registry.client(url, timeout=TIMEOUT)
    try:
        return WorkerCensus(workers=tuple(worker_registry.live_workers(conn)))
    except redis.RedisError as exc:
        return WorkerCensus(problem=f"the Celery broker cannot be reached ({exc})")
    finally:
        conn.close()
