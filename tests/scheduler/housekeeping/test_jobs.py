"""The housekeeping jobs, called directly: the backstop sweep works only while no scheduler is
alive; retention deletes by ORCH_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.models import DagRun, Job, TaskInstance
from scheduler.housekeeping.jobs import (
    REGISTRY,
    HousekeepingJob,
    backstop_sweep,
    live_schedulers,
    register,
    retention,
)
from tests.builders import RecordingExecutor, add_run, queue_one_try, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def zombie(orch_settings, tmp_path):
    """A running try whose heartbeat stopped an hour ago, on another host."""
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.task_heartbeat_timeout = 60
    ti = queue_one_try("sweep", RecordingExecutor())
    an_hour_ago = timezone.now() - timedelta(hours=1)
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="running", hostname="elsewhere", start_date=an_hour_ago, last_heartbeat_at=an_hour_ago
    )
    return ti


def _scheduler(beat_ago: timedelta, **fields) -> Job:
    when = timezone.now() - beat_ago
    return Job.objects.create(
        job_type="scheduler", start_date=when, latest_heartbeat=when, **fields
    )


def test_the_sweep_leaves_a_zombie_to_a_live_scheduler(zombie):
    _scheduler(timedelta(seconds=1))
    summary = backstop_sweep(timezone.now())
    assert summary == "skipped: 1 scheduler(s) alive do it themselves"
    assert TaskInstance.objects.get(pk=zombie.pk).state == "running"


def test_with_no_scheduler_alive_the_sweep_fails_the_zombie(zombie, orch_settings):
    orch_settings.scheduler_health_check_threshold = 30
    _scheduler(timedelta(minutes=5))  # silent: dead
    _scheduler(timedelta(seconds=1), state="success", end_date=timezone.now())  # stopped
    assert live_schedulers(timezone.now()) == 0
    summary = backstop_sweep(timezone.now())
    assert "no scheduler alive: 1 zombie try(ies)" in summary
    assert TaskInstance.objects.get(pk=zombie.pk).state in ("failed", "up_for_retry")


def test_retention_deletes_runs_older_than_the_setting(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    dag = store_dag("etl")
    add_run(
        dag, "old", state="success", when=timezone.now() - timedelta(days=10), run_type="manual"
    )
    add_run(
        dag, "young", state="success", when=timezone.now() - timedelta(days=2), run_type="manual"
    )
    orch_settings.retention_days = 5
    summary = retention(timezone.now())
    assert summary.startswith("older than 5 day(s): deleted dag_run 1, task_instance 3")
    assert list(DagRun.objects.values_list("run_id", flat=True)) == ["young"]
    orch_settings.retention_days = None
    assert retention(timezone.now()) == "skipped: ORCH_RETENTION_DAYS is unset"


def test_the_registry_refuses_a_second_job_of_the_same_name():
    with pytest.raises(ValueError, match="registered twice"):
        register(HousekeepingJob("retention", 1, retention, "again"))
    assert set(REGISTRY) >= {"backstop_sweep", "retention"}


def test_retention_says_when_the_log_folder_is_missing_on_its_host(orch_settings, tmp_path, caplog):
    orch_settings.log_dir = tmp_path / "not-mounted"
    orch_settings.retention_days = 5
    retention(timezone.now())
    assert (
        "ORCH_LOG_DIR" in caplog.text and "not-mounted is not a folder on this host" in caplog.text
    )
