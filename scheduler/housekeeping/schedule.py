"""THE beat schedule: one entry per enabled housekeeping job (jobs.py), each sent to the
housekeeping queue as the one thin task (tasks.py) with the job's name.

A message not started within one period is dropped (`expires`): the next period's message is
already on its way, so a beat whose consumer was busy or away does not run a backlog of
identical sweeps when it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scheduler.housekeeping import QUEUE, TASK_NAME
from scheduler.housekeeping.jobs import HousekeepingJob, all_jobs


class ScheduleInvalid(ValueError):
    """A bad `--every`: names the job and what is wrong."""


@dataclass(frozen=True)
class Planned:
    """What beat will do: the scheduled jobs with their periods, and the ones left out."""

    every: dict[str, float]
    left_out: dict[str, str]  # job name -> why

    def describe(self) -> str:
        parts = [f"{name} every {seconds:g} s" for name, seconds in self.every.items()]
        parts += [f"{name} off ({why})" for name, why in self.left_out.items()]
        return "; ".join(parts)


def plan(overrides: Mapping[str, float] | None = None) -> Planned:
    """The jobs to schedule and their periods; `overrides` (from `--every JOB=SECONDS`) must
    name enabled jobs."""
    jobs: dict[str, HousekeepingJob] = all_jobs()
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(jobs))
    if unknown:
        raise ScheduleInvalid(
            f"--every: unknown housekeeping job(s) {', '.join(unknown)} "
            f"(the jobs are {', '.join(sorted(jobs))})"
        )
    every: dict[str, float] = {}
    left_out: dict[str, str] = {}
    for name, job in jobs.items():
        why = job.disabled_because()
        if why is not None:
            if name in overrides:
                raise ScheduleInvalid(f"--every {name}: the job is not scheduled: {why}")
            left_out[name] = why
            continue
        seconds = overrides.get(name, job.every)
        if seconds <= 0:
            raise ScheduleInvalid(f"--every {name}={seconds:g}: the period must be positive")
        every[name] = seconds
    return Planned(every=every, left_out=left_out)


def beat_schedule(planned: Planned) -> dict[str, dict[str, Any]]:
    """Celery's `beat_schedule` setting for `planned`."""
    return {
        name: {
            "task": TASK_NAME,
            "schedule": timedelta(seconds=seconds),
            "args": (name,),
            "options": {"queue": QUEUE, "expires": seconds},
        }
        for name, seconds in planned.every.items()
    }
