"""The ledger test (issue 11): 300 tries over three real Celery workers while workers are
SIGKILLed at random (with everything they started, as a lost host) and replaced. Every try's
side effect is written to a ledger file; in the end every task succeeded, each successful try's
work appears exactly once, no try ran twice, and nothing is left non-terminal.

PostgreSQL only: the production set-up, and the one where several workers' claims really run
at once."""

from __future__ import annotations

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)
import random
import time
from collections import Counter

import pytest

from dagruns.models import DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker
from tests.e2e.conftest import Engine

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

RUNS = 3
TASKS = 100
KILL_AT = (3.0, 9.0, 15.0, 21.0)  # seconds after the first start; each kills one worker

DAG = """
def record(ti=None):
    import time
    with open({ledger!r}, "a") as f:
        f.write(f"start {{ti.run_id}} {{ti.task_id}} {{ti.try_number}}\\n")
    time.sleep(0.3)
    with open({ledger!r}, "a") as f:
        f.write(f"done {{ti.run_id}} {{ti.task_id}} {{ti.try_number}}\\n")

with DAG("ledger", schedule=None, start_date=START, max_active_tasks=64) as dag:
    for i in range({tasks}):
        PythonOperator(task_id=f"t{{i}}", python_callable=record, retries=5,
                       retry_delay=timedelta(seconds=0))
"""


def test_300_tries_over_three_workers_killed_at_random_each_successful_try_once(
    live_server, dags_folder, orch_settings, tmp_path, redis_server
):
    orch_settings.api_url = live_server.url
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    orch_settings.task_heartbeat_interval = 0.5
    orch_settings.task_heartbeat_timeout = 4
    orch_settings.task_queued_timeout = 120
    orch_settings.task_queued_resends = 11  # a lost message is sent again after 10 s
    orch_settings.scheduler_idle_sleep = 0.05
    orch_settings.celery_broker_url = redis_server.url
    orch_settings.executor = "celery"
    ledger = tmp_path / "ledger"
    engine = Engine(dags_folder, parallelism=12, executor="celery")
    engine.add("ledger.py", DAG.format(ledger=str(ledger), tasks=TASKS))
    engine.parse()
    chooser = random.Random(11)
    serial = iter(range(1, 100))
    workers = [
        Worker(redis_server.url, f"l{next(serial)}@test", tmp_path / f"w{i}.log").start(wait=False)
        for i in range(3)
    ]
    for worker in workers:
        worker.wait_ready()
    kills: list[str] = []
    try:
        runs = [engine.trigger("ledger", run_id=f"ledger-{i}") for i in range(RUNS)]
        pks = [r.pk for r in runs]
        started: list[float] = []

        def finished(_report) -> bool:
            if not started and ledger.exists():
                started.append(time.monotonic())
            if (
                started
                and len(kills) < len(KILL_AT)
                and time.monotonic() - started[0] >= KILL_AT[len(kills)]
            ):
                victim = workers.pop(chooser.randrange(len(workers)))
                victim.kill()
                kills.append(victim.name)
                n = next(serial)
                workers.append(
                    Worker(redis_server.url, f"l{n}@test", tmp_path / f"w{n}.log").start(wait=False)
                )
            states = DagRun.objects.filter(pk__in=pks).values_list("state", flat=True)
            return all(s in DAGRUN_FINISHED for s in states)

        assert engine.scheduler().run_until(finished, timeout=600), engine.describe(pks)
    finally:
        engine.close()
        for worker in workers:
            worker.stop()

    assert len(kills) >= 2, f"the runs finished before the second kill ({kills})"
    tis = TaskInstance.objects.filter(dag_id="ledger")
    assert tis.count() == RUNS * TASKS
    assert Counter(tis.values_list("state", flat=True)) == {"success": RUNS * TASKS}
    rows = Counter(tuple(line.split()) for line in ledger.read_text().splitlines())
    twice = {row: n for row, n in rows.items() if n > 1}
    assert not twice, f"a try ran more than once: {twice}"
    for run_id, task_id, try_number in tis.values_list("run_id", "task_id", "try_number"):
        assert rows[("done", run_id, task_id, str(try_number))] == 1, (run_id, task_id)
    # A try cut short by a kill wrote its start and nothing more, and was retried: its task
    # instance's final try is a later one.
    final = {
        (run_id, task_id): n
        for run_id, task_id, n in tis.values_list("run_id", "task_id", "try_number")
    }
    cut = [row[1:] for row in rows if row[0] == "start" and ("done", *row[1:]) not in rows]
    assert all(final[(run_id, task_id)] > int(n) for run_id, task_id, n in cut), cut
    assert cut, "no kill caught a task mid-run"
