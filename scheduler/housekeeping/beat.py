"""`manage.py celery beat`: Celery's beat service with the housekeeping schedule, and the
embedded consumer that runs the jobs (see this package's docstring for the shape and why).

    manage.py celery beat [--every JOB=SECONDS …] [--lock-timeout S] [--max-retries N]
                          [--retry-delay S]

The process is a Celery worker (solo pool: jobs run one at a time in its main thread, with
Django) that consumes only the housekeeping queue, plus Celery's beat `Service` in a thread of
the same process: one process to start, stop and supervise, and no forked beat child left
running when it is killed. SIGTERM is Celery's warm shutdown: the job running finishes, the
beat thread stops and gives its lease up so another beat may take over at once.

Differences from Airflow: Airflow has no beat (its housekeeping lives in the scheduler, and
`airflow db clean` is run by hand). Differences from `celery beat`: no schedule file (the last
runs live in Redis, shared by the beats), and the lock, which plain Celery beat does not have.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from celery import Celery, bootsteps
from celery.beat import Service
from django.conf import settings
from django.core.management.base import CommandError

from orchestrator_site.celery import broker_url, make_app
from orchestrator_site.config import SettingError
from scheduler.housekeeping import QUEUE, TASK_NAME
from scheduler.housekeeping.heartbeat import BeatHeartbeat
from scheduler.housekeeping.lock import BeatLock, LeasedScheduler
from scheduler.housekeeping.schedule import Planned, ScheduleInvalid, beat_schedule, plan
from scheduler.housekeeping.tasks import RetryPolicy, register_task

log = logging.getLogger(__name__)

MIN_LOCK_TIMEOUT = 2.0

HELP = (
    "Run Celery beat with the periodic housekeeping (zombie sweep backstop, retention) and "
    "the consumer that runs it; several may run, one sends (a lock in Redis)."
)


def _every(text: str) -> tuple[str, float]:
    name, sep, seconds = text.partition("=")
    if not sep or not name.strip():
        raise ArgumentTypeError(f"{text!r} is not JOB=SECONDS (e.g. retention=3600)")
    try:
        value = float(seconds)
    except ValueError:
        raise ArgumentTypeError(f"{text!r}: {seconds!r} is not a number of seconds") from None
    return name.strip(), value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _lock_timeout(text: str) -> float:
    value = _positive(text)
    if value < MIN_LOCK_TIMEOUT:
        # Renewed every third of its life, on ticks at most a second apart: shorter than this
        # and a busy moment would pass the lease from beat to beat.
        raise ArgumentTypeError(f"{text!r} must be at least {MIN_LOCK_TIMEOUT:g} seconds")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--every",
        type=_every,
        action="append",
        default=[],
        metavar="JOB=SECONDS",
        help="Run housekeeping job JOB every SECONDS instead of its default (repeatable; "
        "jobs: backstop_sweep every 60 s, retention every 3600 s).",
    )
    parser.add_argument(
        "--lock-timeout",
        type=_lock_timeout,
        default=30.0,
        metavar="SECONDS",
        help="Life of the beat lock in Redis: a beat that dies holding it is replaced by a "
        "standby after this long (default 30).",
    )
    parser.add_argument(
        "--max-retries",
        type=_count,
        default=3,
        metavar="N",
        help="Retries of a failing housekeeping job before it waits for its next run (default 3).",
    )
    parser.add_argument(
        "--retry-delay",
        type=_positive,
        default=10.0,
        metavar="SECONDS",
        help="Delay before a failed job's first retry, doubling for each further one "
        "(default 10, at most 600).",
    )


def run(options: dict[str, Any]) -> None:
    try:
        url = broker_url()
    except SettingError as exc:
        raise CommandError(str(exc)) from None
    try:
        planned = plan(dict(options.get("every") or []))
    except ScheduleInvalid as exc:
        raise CommandError(str(exc)) from None
    policy = RetryPolicy(max_retries=options["max_retries"], first_delay=options["retry_delay"])
    lock = BeatLock(url, timeout=options["lock_timeout"])
    app = beat_app(planned, policy)
    log.info(
        "beat: housekeeping: %s; lock %s (timeout %g s), as %s",
        planned.describe(),
        lock.lease_key,
        lock.timeout,
        lock.owner,
    )
    app.steps["worker"].add(type("BeatThreadWithLock", (BeatThread,), {"lock": lock}))
    worker = app.Worker(
        hostname=f"housekeeping-{os.getpid()}@{socket.gethostname()}",
        queues=[QUEUE],
        pool_cls="solo",
        concurrency=1,
        loglevel=settings.ORCH.log_level,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        quiet=True,
    )
    worker.start()
    if worker.exitcode:
        raise SystemExit(worker.exitcode)


def beat_app(planned: Planned, policy: RetryPolicy) -> Celery:
    """A Celery app of beat's own: the common broker settings (orchestrator_site.celery) plus
    the schedule, the housekeeping task and its route. The workers' app is left as it is."""
    app = make_app()
    app.conf.update(
        # Not the task workers' module (scheduler.tasks): importing it connects their worker
        # hooks (a forkserver, an entry in the worker registry) to this process too.
        include=[],
        beat_schedule=beat_schedule(planned),
        task_routes={TASK_NAME: {"queue": QUEUE}},
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        # Keep the project's logging (ORCH_LOG_LEVEL, one format for every process).
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    register_task(app, policy)
    return app


class _ServiceThread(threading.Thread):
    def __init__(self, app: Celery, lock: BeatLock) -> None:
        super().__init__(name="beat", daemon=True)
        # max_interval 1 s: the thread notices a stop within a second.
        self.service = Service(
            app,
            max_interval=1.0,
            scheduler_cls=lambda **kw: LeasedScheduler(lock=lock, **kw),
            remote_control=False,
        )

    def run(self) -> None:
        self.service.start()

    def stop(self) -> None:
        self.service.stop(wait=True)


class BeatThread(bootsteps.StartStopStep):
    """Starts Celery's beat service in a thread when the consumer starts, with beat's
    heartbeat (heartbeat.py); stops them (giving the lease up, ending the Job row) when the
    consumer stops."""

    label = "Housekeeping beat"
    lock: BeatLock | None = None

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.thread: _ServiceThread | None = None
        self.heartbeat: BeatHeartbeat | None = None

    def create(self, parent: Any) -> BeatThread:
        return self

    def start(self, parent: Any) -> None:
        assert self.lock is not None
        self.heartbeat = BeatHeartbeat()
        self.heartbeat.start()
        self.thread = _ServiceThread(parent.app, self.lock)
        self.thread.start()

    def stop(self, parent: Any) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.thread.stop()
        self.thread = None
        if self.heartbeat is not None:
            self.heartbeat.stop()
        self.heartbeat = None

    shutdown = stop
