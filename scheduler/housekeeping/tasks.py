"""The one thin housekeeping task: look the job up in the registry, run it, log what it did.

A job that raises is retried through the broker, a bounded number of times with a doubling
delay (`manage.py celery beat --max-retries/--retry-delay`), each failure logged with its
reason; after the last try it is logged as given up until its next period. Registered only on
beat's own Celery app (beat.py), never on the app the task workers load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from django.utils import timezone

from scheduler.housekeeping import TASK_NAME
from scheduler.housekeeping.jobs import all_jobs

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    first_delay: float = 10.0

    def delay(self, retries_done: int) -> float:
        """Seconds before the next try: first_delay, doubling, at most MAX_RETRY_DELAY."""
        return min(self.first_delay * 2**retries_done, max(MAX_RETRY_DELAY, self.first_delay))


def register_task(app: Celery, policy: RetryPolicy) -> Any:
    jobs = all_jobs()

    # acks_late=False (the app's default is late, for tries): a job cut short by a killed beat
    # is not delivered again hours later; its next period runs it.
    @app.task(
        name=TASK_NAME,
        bind=True,
        ignore_result=True,
        acks_late=False,
        max_retries=policy.max_retries,
    )
    def run_job(self, name: str, claim: int | None = None, sent_at: float | None = None) -> None:
        job = jobs.get(name)
        if job is None:
            log.error(
                "housekeeping: unknown job %r in a message (the jobs are %s); dropped",
                name,
                ", ".join(sorted(jobs)),
            )
            return
        tries = policy.max_retries + 1
        attempt = self.request.retries + 1
        sent = datetime.fromtimestamp(sent_at, UTC).isoformat() if sent_at else "?"
        label = f"housekeeping job {name} (claim #{claim}, sent at {sent})"
        try:
            summary = job.run(timezone.now())
        except Exception as exc:
            if attempt >= tries:
                log.error(
                    "%s failed (try %d of %d): %s: %s; giving up until its next run",
                    label,
                    attempt,
                    tries,
                    type(exc).__name__,
                    exc,
                    exc_info=True,
                )
                return
            delay = policy.delay(self.request.retries)
            log.warning(
                "%s failed (try %d of %d): %s: %s; retrying in %g s",
                label,
                attempt,
                tries,
                type(exc).__name__,
                exc,
                delay,
            )
            # expires=None: the period's expiry is for the first send, not for its retries.
            raise self.retry(exc=exc, countdown=delay, expires=None) from None
        log.info("%s done (try %d of %d): %s", label, attempt, tries, summary)

    return run_job
