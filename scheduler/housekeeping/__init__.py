"""Celery beat's periodic housekeeping: what does not belong in the scheduler's hot loop.

    manage.py celery beat          (scheduler/housekeeping/beat.py)

One beat process runs Celery's own beat service (the schedule: schedule.py, built from the
job registry in jobs.py) in a thread, and an embedded Celery consumer of one dedicated queue,
QUEUE, in its main thread. Beat sends each due job to that queue; a beat's consumer runs it with
Django and the database at hand (tasks.py). The Django-free task workers (`manage.py celery
worker`) never see these messages: they consume the task queues (`default`, …), never QUEUE.

Why a queue and not a function call in beat: a job that fails is retried through the broker
with a growing delay (Celery's retry with a countdown), without blocking the schedule, and any
running beat may run it.

Two beats started by mistake do not double the work (lock.py): only the beat holding a lease
in Redis sends, and it records each job's last run in Redis under the same lease, so a beat
taking over from one that died (its lease runs out) neither re-sends nor skips a period.

This package's __init__ imports nothing (no Django): the worker may read QUEUE from here.
"""

from __future__ import annotations

QUEUE = "orchestrator.housekeeping"
TASK_NAME = "orchestrator.housekeeping.run_job"
