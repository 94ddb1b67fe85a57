"""The scheduler's orphan check (Airflow's SchedulerJobRunner.adopt_or_reset_orphaned_tasks):
at start, right after recovery, and then every ORCH_ORPHANED_TASKS_CHECK_INTERVAL, a scheduler
ends the Job rows of dead schedulers (recovery.py's liveness rule: on this host its process is
gone, elsewhere its heartbeat is older than the threshold) and hands their tries still queued
or running on an executor that adopts (Celery, Kubernetes) to that executor, which takes them
over (executors/celery_adoption.py; the Kubernetes executor adopts their pods as at start).

Tries with no recorded queuer (`dags test`, rows from before the field) are not orphans: no
scheduler owned their messages. Tries of executors that do not adopt while running are left to
recovery at start (local runners on this host) and to the timeouts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from dagruns.models import Job, TaskInstance, TaskInstanceState
from scheduler.executors.base import BaseExecutor
from scheduler.executors.liveness import this_host
from scheduler.scheduling.recovery import end_dead_schedulers

log = logging.getLogger(__name__)
TIS = TaskInstanceState


def adopt_orphaned_tries(me: Job, executor: BaseExecutor, now: datetime) -> int:
    """Hand the tries of dead schedulers to the executor that adopts them; returns how many
    it adopted."""
    names = executor.adopting_executors()
    if not names:
        return 0
    live, _ended = end_dead_schedulers(me, this_host(), now)
    orphans = list(
        TaskInstance.objects.filter(state__in=(TIS.QUEUED, TIS.RUNNING), executor__in=names)
        .exclude(queued_by_job_id=None)
        .exclude(queued_by_job_id__in=[*live, me.pk])
    )
    if not orphans:
        return 0
    owners = {
        job.pk: job for job in Job.objects.filter(pk__in={ti.queued_by_job_id for ti in orphans})
    }
    adopted = executor.try_adopt_task_instances(orphans, owners)
    if adopted < len(orphans):
        log.info(
            "%d of %d orphaned try(ies) not adopted (another scheduler took them, or they ended)",
            len(orphans) - adopted,
            len(orphans),
        )
    return adopted
