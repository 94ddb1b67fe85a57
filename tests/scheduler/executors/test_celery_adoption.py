"""A live scheduler's Celery executor taking over a dead scheduler's in-flight tries, against a
real private Redis (no worker: results are stored and published as Celery's Redis backend does,
so each end is under the test's control). The orphan check (scheduling/adoption.py) finds the
dead scheduler; the executor claims the try, counts it in its slots and reads its result."""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from dagruns.models import Job, TaskInstance
from scheduler.executors.base import ExecutorEvent
from scheduler.executors.celery import CeleryExecutor
from scheduler.executors.multi import MultiExecutor
from scheduler.scheduling.adoption import adopt_orphaned_tries
from tests.brokers import redis_server  # noqa: F401
from tests.builders import RecordingExecutor
from tests.celery_workers import Worker, running_workers
from tests.polling import wait_until
from tests.scheduler.executors.test_celery import (
    collect,
    ended_message,
    sent_task_ids,
    unclaimable,
)

pytestmark = pytest.mark.django_db


def scheduler_job(hostname: str, heartbeat_age: float = 0.0) -> Job:
    beat = timezone.now() - timedelta(seconds=heartbeat_age)
    return Job.objects.create(
        job_type="scheduler", hostname=hostname, pid=4242, start_date=beat, latest_heartbeat=beat
    )


@pytest.fixture
def celery(orch_settings, redis_server, tmp_path):
    """Makes started Celery executors, each as the executor of a scheduler Job; ends them all."""
    orch_settings.celery_broker_url = redis_server.url
    orch_settings.log_dir = tmp_path / "logs"
    made: list[CeleryExecutor] = []

    def make(job: Job, parallelism: int = 3) -> CeleryExecutor:
        executor = CeleryExecutor(parallelism=parallelism)
        executor.start()
        executor.on_scheduler_started(job.pk)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.end()


def make_orphan(celery, dag_id: str, patience: float = 1):
    """A try queued through scheduler job `dead` (on another host, silent for an hour); that
    scheduler's executor recorded the message id, then died. Returns (dead, workload)."""
    dead = scheduler_job("elsewhere", heartbeat_age=3600)
    first = celery(dead)
    workload = unclaimable(dag_id, patience=patience)
    first.queue(workload)
    assert first.sync() == []  # stores the message id on the try
    TaskInstance.objects.filter(pk=workload.ti_id).update(
        queued_by_job_id=dead.pk, executor="celery"
    )
    return dead, workload


@pytest.fixture
def orphan(celery, redis_server):
    """An orphaned try whose message waits in Redis (no worker here)."""
    dead, workload = make_orphan(celery, "celery_orphan")
    (message_id,) = sent_task_ids(redis.Redis.from_url(redis_server.url))
    return dead, workload, message_id


def test_the_message_id_of_each_sent_try_is_stored_on_it(orphan):
    _dead, workload, message_id = orphan
    assert TaskInstance.objects.get(pk=workload.ti_id).external_executor_id == message_id


def test_a_live_scheduler_adopts_a_dead_schedulers_try_counts_it_in_its_slots_and_reads_its_end(
    celery, orphan, redis_server, caplog
):
    dead, workload, message_id = orphan
    me = scheduler_job("here")
    adopter = celery(me)
    caplog.set_level(logging.INFO)

    assert adopt_orphaned_tries(me, adopter, timezone.now()) == 1

    assert f"from dead scheduler job {dead.pk} on elsewhere (pid 4242)" in caplog.text
    assert "Celery executor: 1 of 3 slots in use" in caplog.text
    assert adopter.running_tries() == {workload.ti_id: 1}
    assert adopter.open_slots == 2
    assert TaskInstance.objects.get(pk=workload.ti_id).queued_by_job_id == me.pk
    assert Job.objects.get(pk=dead.pk).state == "failed"
    assert adopt_orphaned_tries(me, adopter, timezone.now()) == 0  # ours now, not an orphan

    client = redis.Redis.from_url(redis_server.url)
    key = adopter.app.backend.get_key_for_task(message_id)
    client.publish(key, ended_message(message_id, 7))
    (event,) = collect(adopter, 1, timeout=30)
    assert event == ExecutorEvent(workload.ti_id, 1, 7)
    assert adopter.open_slots == 3


def test_a_result_stored_before_the_adoption_of_a_try_without_a_recorded_id_is_read_at_once(
    celery, orphan, redis_server
):
    """The dead scheduler sent the message but died before recording its id, and the try
    ended before anyone adopted it: its result, published to nobody, is found in the backend."""
    _dead, workload, message_id = orphan
    TaskInstance.objects.filter(pk=workload.ti_id).update(external_executor_id=None)
    me = scheduler_job("here")
    adopter = celery(me)
    client = redis.Redis.from_url(redis_server.url)
    key = adopter.app.backend.get_key_for_task(message_id)
    client.set(key, ended_message(message_id, 0))

    assert adopt_orphaned_tries(me, adopter, timezone.now()) == 1

    assert adopter.sync() == [ExecutorEvent(workload.ti_id, 1, 0)]
    assert not client.exists(key)


def test_of_two_schedulers_adopting_the_same_try_only_one_takes_it(celery, orphan):
    dead, workload, _message_id = orphan
    one, other = scheduler_job("here"), scheduler_job("there")
    stale = list(TaskInstance.objects.filter(pk=workload.ti_id))  # both read it as orphaned
    first, second = celery(one), celery(other)
    owners = {dead.pk: dead}
    assert first.try_adopt_task_instances(stale, owners) == 1
    assert second.try_adopt_task_instances(stale, owners) == 0
    assert second.running_tries() == {}
    assert TaskInstance.objects.get(pk=workload.ti_id).queued_by_job_id == one.pk


def test_a_try_of_a_live_peer_is_not_adopted(celery, orphan):
    dead, workload, _message_id = orphan
    Job.objects.filter(pk=dead.pk).update(latest_heartbeat=timezone.now())  # alive after all
    me = scheduler_job("here")
    assert adopt_orphaned_tries(me, celery(me), timezone.now()) == 0
    assert TaskInstance.objects.get(pk=workload.ti_id).queued_by_job_id == dead.pk


def test_the_resends_the_dead_scheduler_did_count_toward_the_bound_after_adoption(celery, orphan):
    dead, workload, _message_id = orphan
    first = celery(scheduler_job("gone", heartbeat_age=3600))
    first.resend(workload, 1)  # the dead scheduler's first re-send (kept in Redis too)
    me = scheduler_job("here")
    adopter = celery(me)
    assert adopt_orphaned_tries(me, adopter, timezone.now()) == 1
    assert adopter.resends_done(workload.ti_id, 1) == 1
    adopter.resend(workload, 2)
    assert adopter.resends_done(workload.ti_id, 1) == 2
    assert adopter.running_tries() == {workload.ti_id: 1}


def test_several_executors_hand_each_orphan_to_the_executor_it_was_queued_on(celery, orphan):
    _dead, workload, _message_id = orphan
    me = scheduler_job("here")
    adopter = celery(me)
    routing = MultiExecutor({"local": RecordingExecutor(name="local"), "celery": adopter})
    assert routing.adopting_executors() == frozenset({"celery"})
    assert adopt_orphaned_tries(me, routing, timezone.now()) == 1
    assert routing.running_tries() == {workload.ti_id: 1}


def test_an_adopted_try_running_on_a_worker_is_terminated_through_that_worker(
    celery, redis_server, tmp_path
):
    worker = Worker(redis_server.url, "one@test", tmp_path / "w.log", concurrency=1)
    with running_workers([worker]):
        _dead, workload = make_orphan(celery, "celery_orphan_kill", patience=300)
        wait_until(lambda: worker.runners(), "the runner to start", timeout=60)
        me = scheduler_job("here")
        adopter = celery(me)
        assert adopt_orphaned_tries(me, adopter, timezone.now()) == 1
        assert adopter.terminate(workload.ti_id)
        (event,) = collect(adopter, 1, timeout=90)
    assert event.ti_id == workload.ti_id and event.returncode < 0  # killed by a signal
    assert "terminated try" in worker.log()


def test_a_dead_schedulers_try_this_scheduler_resent_is_claimed_so_no_peer_adopts_it_too(
    celery, orphan
):
    dead, workload, _message_id = orphan
    me, peer = scheduler_job("here"), scheduler_job("there")
    mine = celery(me)
    mine.resend(workload, 1)  # the health step re-sent the stuck queued try from here
    stale = list(TaskInstance.objects.filter(pk=workload.ti_id))
    assert mine.try_adopt_task_instances(stale, {dead.pk: dead}) == 1
    assert TaskInstance.objects.get(pk=workload.ti_id).queued_by_job_id == me.pk
    assert celery(peer).try_adopt_task_instances(stale, {dead.pk: dead}) == 0
    assert celery(peer).running_tries() == {}


def test_two_schedulers_making_the_same_resend_send_it_once(celery, orphan, redis_server):
    # Both health steps read the count (0) before either wrote it: the re-send is reserved in
    # Redis, so only one of them sends the message again.
    _dead, workload, message_id = orphan
    one, other = celery(scheduler_job("here")), celery(scheduler_job("there"))
    one.resend(workload, 1)
    other.resend(workload, 1)
    client = redis.Redis.from_url(redis_server.url)
    assert len(set(sent_task_ids(client)) - {message_id}) == 1
    assert other.resends_done(workload.ti_id, 1) == 1
    other.resend(workload, 2)  # the next one is still there to make
    assert len(set(sent_task_ids(client)) - {message_id}) == 2


def test_a_stored_result_of_an_earlier_run_of_the_same_try_does_not_end_the_adopted_one(
    celery, orphan, redis_server
):
    """A deferred task resumes under its try number: the result its first run left in the
    backend (done before this run was queued) must not end the resumed run once adopted."""
    _dead, workload, _message_id = orphan
    TaskInstance.objects.filter(pk=workload.ti_id).update(external_executor_id=None)
    queued_at = TaskInstance.objects.get(pk=workload.ti_id).queued_dttm
    me = scheduler_job("here")
    adopter = celery(me)
    client = redis.Redis.from_url(redis_server.url)
    earlier_id = f"{workload.ti_id}.1.earlier"
    earlier = json.loads(ended_message(earlier_id, 0))
    earlier["date_done"] = (queued_at - timedelta(minutes=5)).isoformat()
    key = adopter.app.backend.get_key_for_task(earlier_id)
    client.set(key, json.dumps(earlier))

    assert adopt_orphaned_tries(me, adopter, timezone.now()) == 1

    assert adopter.sync() == []
    assert adopter.running_tries() == {workload.ti_id: 1}
    assert not client.exists(key)
