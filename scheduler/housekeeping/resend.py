"""Re-sending stuck Celery tries from beat while no scheduler is alive (the backstop sweep).

A scheduler's health step sends a queued Celery try's message again when the broker may have
lost it (Redis restarted with nothing on disk), up to ORCH_TASK_QUEUED_RESENDS times, before
ORCH_TASK_QUEUED_TIMEOUT fails the try (scheduling/health.py). With no scheduler alive, beat's
sweep runs the same step with this sender, so such a try still runs instead of being failed.

It is the Celery executor reduced to sending: the same message (`send_task` of the workload to
its queue, with its priority) and nothing in flight to track, since no scheduler reads results
meanwhile (the tries report through the Execution API). How many times a try was re-sent is
kept in Redis, not in memory, under the key the schedulers use: the sweep runs as a job on
whichever beat's consumer takes it, and the bound must hold across them and across a scheduler
that starts later and adopts the try. The message id is stored on the try at once, for that
scheduler to read its result by.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings

from scheduler.executors.celery import CeleryExecutor, resend_count_key
from scheduler.runner.workload import Workload

log = logging.getLogger(__name__)


class BeatResender(CeleryExecutor):
    """What `fail_stuck_queued` needs of an executor to re-send: can_resend, resends_done and
    resend. Never started: beat queues nothing else and reads no results."""

    def __init__(self) -> None:
        super().__init__(parallelism=int(settings.ORCH.parallelism))

    def resends_done(self, ti_id: str, try_number: int) -> int:
        try:
            raw = self._results.get(resend_count_key(ti_id, try_number))
        except redis.RedisError as exc:
            log.warning("cannot read the re-sends of try %s from Redis: %s", ti_id, exc)
            # Unknown: say "all done", so a broker that does not answer is not sent more.
            return int(settings.ORCH.task_queued_resends)
        return int(raw) if raw is not None else 0

    def resend(self, workload: Workload, count: int) -> None:
        if not self.reserve_resend(workload.ti_id, workload.try_number, count):
            return  # a scheduler (or another beat) made this re-send already
        task_id = f"{workload.ti_id}.{workload.try_number}.{uuid.uuid4().hex[:8]}"
        if not self._send(workload, task_id):
            self._unsent.clear()  # nothing here sends it later: the next sweep tries again
            # Give the reserved re-send back, so the next sweep makes it.
            self.store_resends(workload.ti_id, workload.try_number, count - 1)
            return
        self._record_message_ids()


@contextlib.contextmanager
def celery_resender() -> Iterator[BeatResender | None]:
    """A resender when the Celery executor is configured (else None: nothing to re-send)."""
    if "celery" not in settings.ORCH.executors:
        yield None
        return
    resender = BeatResender()
    try:
        yield resender
    finally:
        resender.end()
