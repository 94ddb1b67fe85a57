"""The one beat schedule: enabled jobs with their periods; `--every` names a real, enabled job."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from scheduler.housekeeping import QUEUE, TASK_NAME
from scheduler.housekeeping.kubernetes_pods import NO_CLUSTER
from scheduler.housekeeping.schedule import ScheduleInvalid, beat_schedule, plan


def test_retention_is_scheduled_only_when_its_setting_is(orch_settings):
    orch_settings.retention_days = None
    planned = plan()
    assert planned.every == {"backstop_sweep": 60.0}
    assert planned.left_out == {
        "retention": "ORCH_RETENTION_DAYS is unset",
        "kubernetes_pod_gc": NO_CLUSTER,
    }
    orch_settings.retention_days = 30
    assert plan({"retention": 5}).every == {"backstop_sweep": 60.0, "retention": 5.0}


def test_pod_garbage_collection_is_scheduled_only_with_the_kubernetes_executor(orch_settings):
    orch_settings.retention_days = None
    orch_settings.executor = "local,kubernetes"
    assert plan().every == {"backstop_sweep": 60.0, "kubernetes_pod_gc": 300.0}


def test_pod_garbage_collection_is_scheduled_for_celery_workers_pods_with_a_cluster(
    orch_settings, tmp_path, monkeypatch
):
    """Celery workers may hand tries to pods (`celery worker --pods`, a task's pod_override)."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    orch_settings.retention_days = None
    orch_settings.executor = "celery"
    assert plan().left_out["kubernetes_pod_gc"] == NO_CLUSTER
    orch_settings.kubernetes_config_file = tmp_path / "kubeconfig"
    assert plan().every == {"backstop_sweep": 60.0, "kubernetes_pod_gc": 300.0}


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
        (
            {"nope": 1},
            "unknown housekeeping job(s) nope (the jobs are backstop_sweep, kubernetes_pod_gc, retention)",
        ),
        ({"retention": 1}, "--every retention: the job is not scheduled: ORCH_RETENTION_DAYS"),
        ({"backstop_sweep": 0}, "--every backstop_sweep=0: the period must be positive"),
    ],
)
def test_a_bad_every_names_the_job_and_the_problem(orch_settings, every, message):
    orch_settings.retention_days = None
    with pytest.raises(ScheduleInvalid) as error:
        plan(every)
    assert message in str(error.value)


def test_a_module_listed_in_job_modules_adds_its_job_to_the_schedule(
    orch_settings, monkeypatch, tmp_path
):
    """The hook the Kubernetes executor's pod garbage collection will use: a module that
    registers its job when imported, listed in JOB_MODULES."""
    from scheduler.housekeeping import jobs

    (tmp_path / "pod_gc_for_test.py").write_text(
        "from scheduler.housekeeping.jobs import HousekeepingJob, register\n"
        "register(HousekeepingJob('pod_gc', 120.0, lambda now: '0 pods', 'delete old pods'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(jobs, "JOB_MODULES", ("pod_gc_for_test",))
    monkeypatch.setattr(jobs, "REGISTRY", dict(jobs.REGISTRY))
    monkeypatch.delitem(sys.modules, "pod_gc_for_test", raising=False)
    orch_settings.retention_days = None
    assert plan().every == {"backstop_sweep": 60.0, "pod_gc": 120.0}
    assert beat_schedule(plan({"pod_gc": 5}))["pod_gc"]["args"] == ("pod_gc",)
    monkeypatch.delitem(sys.modules, "pod_gc_for_test")
