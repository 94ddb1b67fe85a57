"""Wake-ups cross hosts: a run triggered on one host starts at once on a scheduler of another,
over Redis pub/sub (ORCH_REDIS_URL) or, without Redis, PostgreSQL NOTIFY.

Three "hosts" (each its own ORCH_HOME, so the local datagram bus cannot connect them): the
scheduler's (host a, whose idle poll is ten minutes: only a wake-up can make it look before),
the API server's (host b, which takes the runners' reports) and this test process (host c,
which triggers). Each run is triggered after the previous one finished, when the scheduler has
gone back to its idle wait."""

from __future__ import annotations

import pytest
from django.db import connection

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagImportError, DagModel, DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED
from dagruns.notify import bus
from scheduler.processor.loop import DagProcessor
from tests.brokers import redis_server  # noqa: F401
from tests.polling import wait_until
from tests.processes import free_port, server_env, start_api_server, start_scheduler, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOP_DAG = """\
from datetime import datetime
from dagruns.sdk import DAG, BashOperator

with DAG("hop", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="a", bash_command="true") >> BashOperator(task_id="b", bash_command="true")
"""
IDLE_SLEEP = "600"
RUNS = 3


def subscribed_schedulers(transport: str, redis_url: str | None) -> int:
    if transport == bus.REDIS:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            return client.pubsub_numsub(bus.redis_channel("wake", redis_url))[0][1]
        finally:
            client.close()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'orchestrator-bus' AND query = %s",
            [f'LISTEN "{bus.postgres_channel("wake")}"'],
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("transport", [bus.REDIS, bus.POSTGRES])
def test_a_run_triggered_on_one_host_starts_at_once_on_a_scheduler_of_another(
    transport, request, dags_folder, orch_settings, settings, tmp_path
):
    extra = {"ORCH_DAGS_FOLDER": str(dags_folder)}
    redis_url = None
    if transport == bus.REDIS:
        redis_url = request.getfixturevalue("redis_server").url
        settings.REDIS_URL = redis_url
        extra["ORCH_REDIS_URL"] = redis_url
    elif connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (runs in the PG pass)")
    orch_settings.log_dir = tmp_path / "logs"
    (dags_folder / "hop.py").write_text(HOP_DAG)
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists()
    DagModel.objects.filter(dag_id="hop").update(is_paused=False)

    port = free_port()
    api = start_api_server(server_env(tmp_path / "host-b", port, **extra), port)
    scheduler = start_scheduler(
        server_env(tmp_path / "host-a", port, ORCH_SCHEDULER_IDLE_SLEEP=IDLE_SLEEP, **extra)
    )
    try:
        wait_until(
            lambda: subscribed_schedulers(transport, redis_url) >= 1,
            "the scheduler subscribed to wake-ups",
            timeout=120,
        )
        orch_settings.home = tmp_path / "host-c"
        assert bus.transport() == transport
        for i in range(RUNS):
            run = do_trigger_dag("hop", Actor(name="e2e"), run_id=f"hop-{i}")

            def finished(pk=run.pk) -> bool:
                assert scheduler.poll() is None, "the scheduler died"
                return DagRun.objects.get(pk=pk).state in DAGRUN_FINISHED

            # Far below the scheduler's ten-minute idle poll: it was woken.
            wait_until(finished, f"run hop-{i} finished", timeout=120)
    finally:
        stop(scheduler)
        stop(api)
    assert set(DagRun.objects.filter(dag_id="hop").values_list("state", flat=True)) == {"success"}
    tries = TaskInstance.objects.filter(dag_id="hop")
    assert tries.count() == 2 * RUNS
    assert set(tries.values_list("state", flat=True)) == {"success"}
