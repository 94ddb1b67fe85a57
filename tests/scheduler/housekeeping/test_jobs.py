"""The housekeeping jobs, called directly: the backstop sweep works only while no scheduler is
alive; retention deletes by ORCH_RETENTION_DAYS."""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dagruns.domain.logs import ti_log_path
from dagruns.models import DagRun, Job, TaskInstance
from scheduler.executors.celery import CeleryExecutor
from scheduler.housekeeping.jobs import (
    REGISTRY,
    HousekeepingJob,
    backstop_sweep,
    live_schedulers,
    register,
    retention,
)
from tests.brokers import redis_server  # noqa: F401
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


@pytest.fixture
def stuck_celery_try(orch_settings, tmp_path, redis_server):
    """A Celery try queued 50 s ago whose message the broker lost (nothing in Redis), and no
    scheduler alive; ORCH_TASK_QUEUED_TIMEOUT 90 s with 2 re-sends: one due every 30 s."""
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.executor = "local,celery"
    orch_settings.celery_broker_url = redis_server.url
    orch_settings.task_queued_timeout = 90
    orch_settings.task_queued_resends = 2
    ti = queue_one_try("lost_message", RecordingExecutor())
    TaskInstance.objects.filter(pk=ti.pk).update(
        executor="celery", queue="etl", queued_dttm=timezone.now() - timedelta(seconds=50)
    )
    return ti


def messages_on(url: str, queue: str) -> list[dict]:
    import json

    import redis

    client = redis.Redis.from_url(url)
    try:
        return [
            json.loads(raw)
            for key in client.keys(f"{queue}*")
            if client.type(key) == b"list"
            for raw in client.lrange(key, 0, -1)
        ]
    finally:
        client.close()


def test_with_no_scheduler_alive_the_sweep_sends_a_stuck_celery_try_again_before_failing_it(
    stuck_celery_try, redis_server
):
    ti = stuck_celery_try
    now = timezone.now()
    backstop_sweep(now)
    (message,) = messages_on(redis_server.url, "etl")
    assert message["headers"]["task"] == "orchestrator.run_try"
    assert message["headers"]["id"].startswith(f"{ti.pk}.1.")
    assert TaskInstance.objects.get(pk=ti.pk).state == "queued"  # not failed: sent again
    # A scheduler starting later adopts the try by this message id, and counts beat's re-send.
    assert TaskInstance.objects.get(pk=ti.pk).external_executor_id == message["headers"]["id"]
    scheduler_side = CeleryExecutor(parallelism=1)
    try:
        assert scheduler_side.resends_done(str(ti.pk), 1) == 1
    finally:
        scheduler_side.end()
    assert "sent again (re-send 1 of 2" in Path(ti_log_path(ti)).read_text()

    backstop_sweep(now)  # the same moment again (another beat's consumer): not sent twice
    assert len(messages_on(redis_server.url, "etl")) == 1

    backstop_sweep(now + timedelta(seconds=15))  # 65 s queued: the second re-send is due
    assert len(messages_on(redis_server.url, "etl")) == 2

    summary = backstop_sweep(now + timedelta(seconds=45))  # 95 s: past the queued timeout
    assert "1 stuck queued try(ies) failed" in summary
    failed = TaskInstance.objects.get(pk=ti.pk)
    assert failed.state in ("failed", "up_for_retry")
    assert "sent 3 times (ORCH_TASK_QUEUED_RESENDS=2)" in Path(ti_log_path(ti)).read_text()


def test_without_the_celery_executor_the_sweep_only_fails_stuck_tries(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.task_queued_timeout = 90
    ti = queue_one_try("stuck_local", RecordingExecutor())
    TaskInstance.objects.filter(pk=ti.pk).update(
        queued_dttm=timezone.now() - timedelta(seconds=100)
    )
    summary = backstop_sweep(timezone.now())
    assert "1 stuck queued try(ies) failed" in summary
