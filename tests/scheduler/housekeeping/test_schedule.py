"""The one beat schedule: enabled jobs with their periods; `--every` names a real, enabled job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.housekeeping import QUEUE, TASK_NAME
from scheduler.housekeeping.schedule import ScheduleInvalid, beat_schedule, plan


def test_retention_is_scheduled_only_when_its_setting_is(orch_settings):
    orch_settings.retention_days = None
    planned = plan()
    assert planned.every == {"backstop_sweep": 60.0}
    assert planned.left_out == {"retention": "ORCH_RETENTION_DAYS is unset"}
    orch_settings.retention_days = 30
    assert plan({"retention": 5}).every == {"backstop_sweep": 60.0, "retention": 5.0}


def test_each_entry_goes_to_the_housekeeping_queue_and_expires_after_its_period(orch_settings):
    orch_settings.retention_days = None
    schedule = beat_schedule(plan({"backstop_sweep": 2}))
    assert schedule == {
        "backstop_sweep": {
            "task": TASK_NAME,
            "schedule": timedelta(seconds=2),
            "args": ("backstop_sweep",),
            "options": {"queue": QUEUE, "expires": 2.0},
        }
    }


@pytest.mark.parametrize(
    ("every", "message"),
    [
        ({"nope": 1}, "unknown housekeeping job(s) nope (the jobs are backstop_sweep, retention)"),
        ({"retention": 1}, "--every retention: the job is not scheduled: ORCH_RETENTION_DAYS"),
        ({"backstop_sweep": 0}, "--every backstop_sweep=0: the period must be positive"),
    ],
)
def test_a_bad_every_names_the_job_and_the_problem(orch_settings, every, message):
    orch_settings.retention_days = None
    with pytest.raises(ScheduleInvalid) as error:
        plan(every)
    assert message in str(error.value)
