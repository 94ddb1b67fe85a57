"""The housekeeping jobs beat runs, in one registry.

A job is a plain function of "now" that does its work through the engine's and the actions'
functions and returns a one-line summary for the log. Another part of the system adds its own
job by calling `register` at import time from a module listed in JOB_MODULES (the Kubernetes
executor's pod garbage collection will be one); beat schedules every registered job that is
enabled.

- backstop_sweep: the scheduler's zombie and stuck-queued checks (scheduling/health.py), run
  only while no scheduler is alive — a scheduler does them itself on every tick, and two
  sweeps at once would only race each other. Stuck Celery tries are sent again first, up to
  ORCH_TASK_QUEUED_RESENDS times, as a scheduler does (resend.py). "Alive" is what /monitor/health calls healthy: a
  running scheduler Job whose heartbeat is newer than ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD.
- retention: deletes old finished runs with everything of theirs, and old audit rows
  (dagruns/actions/cleanup.py, the same rules as `manage.py db clean`), when
  ORCH_RETENTION_DAYS is set; not scheduled at all otherwise.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from dagruns.actions.audit import Actor
from dagruns.actions.cleanup import RETENTION_TABLES, do_clean
from dagruns.models import Job
from scheduler.housekeeping.resend import celery_resender
from scheduler.scheduling.health import fail_stuck_queued, fail_zombies

log = logging.getLogger(__name__)

BEAT_ACTOR = "beat"

# Modules that register more jobs when imported (the Kubernetes issue adds its pod GC here).
JOB_MODULES: tuple[str, ...] = ("scheduler.housekeeping.kubernetes_pods",)


def _always() -> str | None:
    return None


@dataclass(frozen=True)
class HousekeepingJob:
    name: str
    every: float  # seconds between runs, unless `manage.py celery beat --every` says otherwise
    run: Callable[[datetime], str]  # does the work; returns a summary for the log
    description: str
    # None when the job is to be scheduled, else why it is not (named in beat's start line).
    disabled_because: Callable[[], str | None] = field(default=_always)


REGISTRY: dict[str, HousekeepingJob] = {}


def register(job: HousekeepingJob) -> HousekeepingJob:
    if job.name in REGISTRY and REGISTRY[job.name] is not job:
        raise ValueError(f"housekeeping job {job.name!r} is registered twice")
    if job.every <= 0:
        raise ValueError(f"housekeeping job {job.name!r}: `every` must be positive")
    REGISTRY[job.name] = job
    return job


def all_jobs() -> dict[str, HousekeepingJob]:
    """Every registered job, after importing the modules that register more."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return dict(REGISTRY)


# --- backstop sweep ---------------------------------------------------------------------------


def live_schedulers(now: datetime) -> int:
    """Schedulers /monitor/health would call healthy: running, with a recent heartbeat."""
    threshold = timedelta(seconds=settings.ORCH.scheduler_health_check_threshold)
    return Job.objects.filter(
        job_type="scheduler", state="running", end_date=None, latest_heartbeat__gte=now - threshold
    ).count()


def backstop_sweep(now: datetime) -> str:
    alive = live_schedulers(now)
    if alive:
        return f"skipped: {alive} scheduler(s) alive do it themselves"
    zombies = fail_zombies(now)
    with celery_resender() as resender:  # stuck Celery tries are sent again before failed
        stuck = fail_stuck_queued(now, resender)
    return f"no scheduler alive: {zombies} zombie try(ies) and {stuck} stuck queued try(ies) failed"


# --- retention --------------------------------------------------------------------------------


def retention(now: datetime) -> str:
    days = settings.ORCH.retention_days
    if not days:
        return "skipped: ORCH_RETENTION_DAYS is unset"
    if not settings.ORCH.log_dir.is_dir():
        # Rows go all the same (the logs may simply not exist yet), but say it: on a beat host
        # without the shared log volume, deleted runs would leave their logs behind for good.
        log.warning(
            "retention: ORCH_LOG_DIR %s is not a folder on this host; log files of deleted "
            "runs, if they exist elsewhere, are left there (mount the shared log volume here)",
            settings.ORCH.log_dir,
        )
    report = do_clean(now - timedelta(days=days), RETENTION_TABLES, Actor(name=BEAT_ACTOR), now=now)
    return f"older than {days} day(s): deleted {report.summary()}, {report.log_files} log file(s)"


def _retention_off() -> str | None:
    return None if settings.ORCH.retention_days else "ORCH_RETENTION_DAYS is unset"


register(
    HousekeepingJob(
        "backstop_sweep",
        60.0,
        backstop_sweep,
        "fail zombie and stuck-queued tries while no scheduler is alive",
    )
)
register(
    HousekeepingJob(
        "retention",
        3600.0,
        retention,
        "delete finished runs, their task instances, tries, XComs and logs, and audit rows "
        "older than ORCH_RETENTION_DAYS",
        disabled_because=_retention_off,
    )
)
