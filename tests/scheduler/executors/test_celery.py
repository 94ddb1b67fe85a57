"""The Celery executor's contract against a real private Redis and a real worker: queue, sync,
open slots, terminate (a message not started, a running runner), the broker down at start.

The tries here never reach an Execution API (their workloads point at a closed port), so each
runner spends ORCH_TASK_REPORT_RETRY_TIMEOUT trying to claim and ends with EXIT_NOT_CLAIMED:
a real runner, forked by a real worker, whose end the executor reads from the result backend.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

import json
import logging

import pytest
import redis

from scheduler.executors.base import ExecutorEvent, load_executor
from scheduler.executors.celery import CeleryExecutor, message_priority
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_OK
from tests.brokers import redis_server  # noqa: F401
from tests.builders import RecordingExecutor, queue_one_try
from tests.celery_workers import Worker, running_workers, worker_env
from tests.polling import wait_until
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def unclaimable(dag_id: str, patience: float):
    """A queued try's workload whose runner can never claim it (no API server there)."""
    recorder = RecordingExecutor()
    queue_one_try(dag_id, recorder)
    (workload,) = recorder.workloads
    return workload.model_copy(
        update={
            "api_url": f"http://127.0.0.1:{free_port()}",
            "report_retry_timeout": patience,
        }
    )


def collect(executor: CeleryExecutor, count: int, timeout: float = 90) -> list[ExecutorEvent]:
    events: list[ExecutorEvent] = []

    def enough() -> bool:
        events.extend(executor.sync())
        return len(events) >= count

    wait_until(enough, f"{count} ended runner(s)", timeout=timeout)
    return events


@pytest.fixture
def executor(orch_settings, redis_server, tmp_path):
    orch_settings.celery_broker_url = redis_server.url
    orch_settings.log_dir = tmp_path / "logs"
    executor = CeleryExecutor(parallelism=3)
    executor.start()
    yield executor
    executor.end()


def test_the_priority_weight_maps_onto_the_ten_redis_priorities_higher_first():
    assert [message_priority(w) for w in (-5, 0, 1, 2, 3, 4, 7, 8, 256, 511, 512, 10**9)] == [
        9, 9, 9, 8, 8, 7, 7, 6, 1, 1, 0, 0,
    ]  # fmt: skip


def test_load_executor_knows_celery(orch_settings, redis_server):
    orch_settings.celery_broker_url = redis_server.url
    assert isinstance(load_executor("celery", 4), CeleryExecutor)


def test_a_queued_try_runs_on_a_worker_and_its_end_comes_back_through_sync(
    executor,
    redis_server,
    tmp_path,
):
    workload = unclaimable("celery_sync", patience=1)
    executor.queue(workload)
    assert executor.running_tries() == {workload.ti_id: 1}
    assert executor.open_slots == 2
    with running_workers([Worker(redis_server.url, "w@test", tmp_path / "w.log")]):
        (event,) = collect(executor, 1)
    assert event == ExecutorEvent(workload.ti_id, 1, EXIT_NOT_CLAIMED)
    assert executor.running_tries() == {}
    assert executor.open_slots == 3


def test_terminate_kills_a_running_runner_through_its_worker_and_revokes_a_waiting_message(
    executor,
    redis_server,
    tmp_path,
):
    running = unclaimable("celery_kill", patience=300)
    waiting = unclaimable("celery_revoke", patience=1)
    worker = Worker(redis_server.url, "one@test", tmp_path / "w.log", concurrency=1)
    with running_workers([worker]):
        executor.queue(running)
        # The runner is up once the worker's pool process has noted its pid.
        wait_until(lambda: worker.runners(), "the runner to start", timeout=60)
        executor.queue(waiting)  # the only pool process is busy: it waits in the queue
        assert executor.terminate(waiting.ti_id)
        assert not executor.terminate(waiting.ti_id)  # once
        assert executor.terminate(running.ti_id)
        events: list[ExecutorEvent] = []

        def all_ended() -> bool:
            events.extend(executor.sync())
            return not executor.running_tries()

        wait_until(all_ended, "both messages to end", timeout=90)
    # One runner ended, killed by a signal; the revoked message started none (no EXIT_NOT_CLAIMED).
    ((ti_id, returncode),) = [(e.ti_id, e.returncode) for e in events]
    assert ti_id == running.ti_id and returncode < 0
    assert "terminated try" in worker.log()


def test_an_unreachable_broker_at_start_is_an_error_naming_the_variable_not_a_crash(
    orch_settings,
    redis_server,
    caplog,
    tmp_path,
):
    orch_settings.celery_broker_url = redis_server.url
    orch_settings.log_dir = tmp_path / "logs"
    redis_server.stop()
    executor = CeleryExecutor(parallelism=2)
    with caplog.at_level(logging.ERROR):
        executor.start()
    assert "ORCH_CELERY_BROKER_URL" in caplog.text and "cannot reach" in caplog.text
    assert executor.open_slots == 0  # nothing new is queued into a broker that is down
    workload = unclaimable("celery_down", patience=1)
    executor.queue(workload)  # a try queued just before: kept, sent when the broker answers
    assert executor.sync() == []
    redis_server.start()
    with running_workers([Worker(redis_server.url, "w@test", tmp_path / "w.log")]):
        (event,) = collect(executor, 1)
    assert event == ExecutorEvent(workload.ti_id, 1, EXIT_NOT_CLAIMED)
    assert executor.open_slots == 2
    executor.end()


def test_a_try_no_longer_active_in_the_database_frees_its_slot_without_a_result(
    executor, orch_settings
):
    """Its result was lost (Redis restarted) or never comes: the slot must not leak."""
    from dagruns.models import TaskInstance

    workload = unclaimable("celery_lost", patience=1)
    executor.queue(workload)  # no worker: no result will ever come
    assert executor.running_count == 1
    TaskInstance.objects.filter(pk=workload.ti_id).update(state="failed")
    wait_until(lambda: not executor.sync() and executor.running_count == 0, "the slot freed")


def test_a_try_that_ends_within_the_terminate_grace_is_not_killed_through_its_worker(
    executor, redis_server, tmp_path, monkeypatch
):
    """The scheduler's orphan check asks to terminate a try that just reported (the database
    has it finished, its result is not back yet): its own end, not a kill, ends it."""
    monkeypatch.setattr("scheduler.executors.celery.TERMINATE_GRACE", 3600)
    workload = unclaimable("celery_grace", patience=1)
    worker = Worker(redis_server.url, "grace@test", tmp_path / "w.log", concurrency=1)
    with running_workers([worker]):
        executor.queue(workload)
        assert executor.terminate(workload.ti_id)
        (event,) = collect(executor, 1)
    assert event == ExecutorEvent(workload.ti_id, 1, EXIT_NOT_CLAIMED)  # ended on its own
    assert "terminated try" not in worker.log()


def test_a_workers_own_orch_api_url_is_where_its_runners_report(executor, redis_server, tmp_path):
    """As Airflow 3's worker-side execution_api_server_url: the worker's ORCH_API_URL wins over
    the scheduler's, which the workload carries. A stand-in HTTP server at the worker's URL
    refuses the claim with 409 (not ours to run): the runner asked it, and ended cleanly."""
    import http.server
    import threading

    asked: list[tuple[str, str]] = []

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_PATCH(self):
            asked.append((self.command, self.path))
            body = b'{"detail": {"reason": "invalid_state", "message": "not queued"}}'
            self.send_response(409)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        workload = unclaimable("celery_api_url", patience=1)  # its own api_url: a closed port
        env = worker_env(
            redis_server.url, ORCH_API_URL=f"http://127.0.0.1:{server.server_address[1]}"
        )
        with running_workers([Worker(redis_server.url, "w@test", tmp_path / "w.log", env=env)]):
            executor.queue(workload)
            (event,) = collect(executor, 1)
    finally:
        server.shutdown()
        server.server_close()
    assert event == ExecutorEvent(workload.ti_id, 1, EXIT_OK)
    assert [(m, p.rsplit("/", 3)[-3:]) for m, p in asked] == [
        ("PATCH", ["task-instances", workload.ti_id, "run"])
    ]


def sent_task_ids(client) -> list[str]:
    """The Celery task ids of the messages waiting in the default queue (each priority level is
    a list of its own), as a worker would take them."""
    return [
        json.loads(raw)["headers"]["id"]
        for key in client.keys("default*")
        if client.type(key) == b"list"
        for raw in client.lrange(key, 0, -1)
    ]


def ended_message(task_id: str, code: int) -> bytes:
    """A finished task's result as Celery's Redis backend stores and publishes it."""
    return json.dumps({"status": "SUCCESS", "result": code, "task_id": task_id}).encode()


def test_sending_a_try_subscribes_to_nothing_per_task(executor, redis_server):
    """Celery's sender subscribes to each task's result channel and unsubscribes when its
    AsyncResult goes: two requests to Redis per try on the hop between tasks. The executor's
    one pattern subscription covers every result."""
    client = redis.Redis.from_url(redis_server.url)
    client.config_resetstat()
    for n in range(3):
        executor.queue(unclaimable(f"celery_nosub_{n}", patience=1))
    stats = client.info("commandstats")
    assert stats["cmdstat_lpush"]["calls"] == 3
    assert not {"cmdstat_subscribe", "cmdstat_unsubscribe"} & set(stats)
    assert client.pubsub_numpat() == 1


def test_a_published_result_ends_its_try_from_the_message_alone(executor, redis_server):
    """The backend publishes each result as it stores it: the executor takes the exit code
    from the publication (here published, never stored, so no read of the key could find it)."""
    client = redis.Redis.from_url(redis_server.url)
    workload = unclaimable("celery_published", patience=1)
    executor.queue(workload)
    (task_id,) = sent_task_ids(client)
    assert executor.sync() == []
    client.publish(executor.app.backend.get_key_for_task(task_id), ended_message(task_id, 7))
    (event,) = collect(executor, 1, timeout=30)
    assert event == ExecutorEvent(workload.ti_id, 1, 7)
    assert executor.running_tries() == {}


def test_a_result_whose_publication_was_missed_is_found_by_the_poll(executor, redis_server):
    """Stored while the subscription was down (here: stored, never published): the periodic
    MGET finds it, and the key is deleted once read."""
    client = redis.Redis.from_url(redis_server.url)
    workload = unclaimable("celery_missed", patience=1)
    executor.queue(workload)
    (task_id,) = sent_task_ids(client)
    key = executor.app.backend.get_key_for_task(task_id)
    client.set(key, ended_message(task_id, 0))
    (event,) = collect(executor, 1, timeout=30)
    assert event == ExecutorEvent(workload.ti_id, 1, EXIT_OK)
    assert not client.exists(key)


def test_the_same_try_queued_again_after_a_termination_is_a_new_run_not_a_resend(executor):
    """A reschedule-mode sensor: its run reported up_for_reschedule, the orphan check asked to
    terminate it, and the same try is queued again. The old run's pending kill must not reach
    the new run, which can itself be terminated (e.g. when cleared)."""
    workload = unclaimable("celery_resched", patience=1)
    executor.queue(workload)
    assert executor.terminate(workload.ti_id)
    executor.queue(workload)
    assert executor.running_tries() == {workload.ti_id: 1}
    assert executor.terminate(workload.ti_id)  # the new run's own, first termination
