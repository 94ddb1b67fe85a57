"""Is each long-running process alive? The newest running Job row of its type, judged by
Airflow's health check thresholds ([scheduler] scheduler_health_check_threshold for the
scheduler, DAG processor and Celery beat, [triggerer] triggerer_health_check_threshold for the
triggerer).

Celery beat (ours; Airflow has none) is `absent` rather than unhealthy when no beat runs and
ORCH_EXECUTOR has no celery: without Celery it is optional (only retention needs it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from dagruns.models import Job

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
ABSENT = "absent"
BEAT = "celery_beat"
JOB_TYPES = ("scheduler", "dag_processor", "triggerer", BEAT)


@dataclass(frozen=True)
class JobHealth:
    job_type: str
    status: str
    latest_heartbeat: datetime | None
    hostname: str

    @property
    def healthy(self) -> bool:
        return self.status == HEALTHY


def threshold(job_type: str) -> timedelta:
    if job_type == "triggerer":
        return timedelta(seconds=settings.ORCH.triggerer_health_check_threshold)
    return timedelta(seconds=settings.ORCH.scheduler_health_check_threshold)


def job_health(job_type: str) -> JobHealth:
    job = (
        Job.objects.filter(job_type=job_type, state="running").order_by("-latest_heartbeat").first()
    )
    if job is None:
        optional = job_type == BEAT and "celery" not in settings.ORCH.executors
        return JobHealth(job_type, ABSENT if optional else UNHEALTHY, None, "")
    alive = timezone.now() - job.latest_heartbeat < threshold(job_type)
    return JobHealth(job_type, HEALTHY if alive else UNHEALTHY, job.latest_heartbeat, job.hostname)
