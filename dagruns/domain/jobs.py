"""Heartbeat rows for long-running processes (scheduler, dag_processor, triggerer, celery_beat)."""

from __future__ import annotations

import os
import socket

from django.utils import timezone

from dagruns.models import Job


def start_job(job_type: str) -> Job:
    now = timezone.now()
    return Job.objects.create(
        job_type=job_type,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        start_date=now,
        latest_heartbeat=now,
    )


def heartbeat(job: Job) -> None:
    job.latest_heartbeat = timezone.now()
    Job.objects.filter(pk=job.pk).update(latest_heartbeat=job.latest_heartbeat)


def end_job(job: Job, state: str = "success") -> None:
    Job.objects.filter(pk=job.pk).update(state=state, end_date=timezone.now())
