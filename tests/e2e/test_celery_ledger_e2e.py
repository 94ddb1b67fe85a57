"""Issue 11's ledger test: 300 task instances over three real Celery workers while workers are
SIGKILLed mid-task and replaced. Every task appends `dag_id,task_id,run_id,map/try` to a ledger
file (O_APPEND, one write); at the end the ledger and the database's tries must agree:

* no line twice: no try ran its side effect twice (a redelivered message is refused at the
  claim);
* every successful try's line exactly once, and no line for a try the database does not know;
* every task instance and run finished (nothing left queued or running): killed tries were
  found by the heartbeat timeout and retried per the task's retries.

Real processes throughout: a private redis-server (tests/brokers.py), the API server (uvicorn),
the scheduler (two on PostgreSQL, one on SQLite), three `manage.py celery worker` processes
without database settings. Killing "mid-task" is a state the test observes (a task process of
that worker is between its start marker and its ledger line), never a guess about timing; the
kill points and victims come from a seeded generator, so a failure names its seed.

A kill is the loss of a worker host: SIGKILL to the worker and to every process below it
(tests/celery_workers.py; runners lead their own process groups, so the worker's group alone
would leave them running), so nothing of it can report afterwards.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from django.db import connection

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagImportError, DagModel, DagRun, TaskInstance, TaskInstanceHistory
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.processor.loop import DagProcessor
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker, celery_server_env
from tests.polling import wait_until
from tests.processes import free_port, start_api_server, start_scheduler, stop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEED = 1111
RUNS = 3
CHAINS = 25  # per run: 25 chains of 4 tasks, 100 task instances
DEPTH = 4
WORKERS = 3
CONCURRENCY = 4
KILLS = 6
RETRIES = 5  # a try is killed at most a few times; the run must still succeed

DAG_SOURCE = """\
import os, time, zlib
from datetime import datetime
from dagruns.sdk import DAG, PythonOperator

LEDGER = {ledger!r}
STARTED = {started!r}


def work(ti=None):
    key = f"{{ti.dag_id}},{{ti.task_id}},{{ti.run_id}},{{ti.map_index}}/{{ti.try_number}}"
    marker = os.path.join(STARTED, str(os.getpid()))
    with open(marker, "w") as handle:  # "mid-task" from here to the ledger line
        handle.write(key)
    time.sleep(0.1 + (zlib.crc32(key.encode()) % 400) / 1000)
    fd = os.open(LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (key + "\\n").encode())  # the side effect: one append per execution
    finally:
        os.close(fd)
    os.unlink(marker)


with DAG("ledger", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs={runs},
         max_active_tasks={tasks}):
    for c in range({chains}):
        previous = None
        for d in range({depth}):
            task = PythonOperator(task_id=f"c{{c:02d}}_{{d}}", python_callable=work,
                                  retries={retries}, retry_delay=0)
            if previous is not None:
                previous >> task
            previous = task
"""


class Slots:
    """WORKERS slots of real workers (tests/celery_workers.py); a killed slot gets a new worker
    with a new name (`ledger<slot>g<generation>@test`) so capacity returns."""

    def __init__(self, broker_url: str, logs: Path) -> None:
        self.broker_url = broker_url
        self.logs = logs
        self.workers: list[Worker] = []
        self.generation = Counter[int]()

    def start(self, slot: int) -> None:
        self.generation[slot] += 1
        name = f"ledger{slot}g{self.generation[slot]}@test"
        worker = Worker(
            self.broker_url, name, self.logs / f"{name}.log", concurrency=CONCURRENCY
        ).start(wait=False)
        if slot < len(self.workers):
            self.workers[slot] = worker
        else:
            self.workers.append(worker)

    def busy(self, started: Path) -> list[int]:
        """Slots with a task process between its start marker and its ledger line."""
        mid_task = {int(marker.name) for marker in started.iterdir()}
        return [
            slot
            for slot, worker in enumerate(self.workers)
            if {proc.pid for proc in worker.tree()} & mid_task
        ]

    @staticmethod
    def forget_the_dead(started: Path) -> None:
        """Markers of killed task processes go: their pids may be reused by new processes."""
        for marker in started.iterdir():
            if not psutil.pid_exists(int(marker.name)):
                marker.unlink(missing_ok=True)

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


def ledger_lines(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines() if ledger.exists() else []


def runs_finished(pks: list[int]) -> bool:
    return not DagRun.objects.filter(pk__in=pks).exclude(state__in=DAGRUN_FINISHED).exists()


def test_300_tries_over_three_workers_with_random_worker_kills_run_exactly_once(
    dags_folder,
    orch_settings,
    tmp_path,
    redis_server,  # noqa: F811
):
    rng = random.Random(SEED)
    print(f"\nledger seed {SEED}")
    ledger, started, logs = tmp_path / "ledger.csv", tmp_path / "started", tmp_path / "workers"
    started.mkdir()
    logs.mkdir()
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    (dags_folder / "ledger.py").write_text(
        DAG_SOURCE.format(
            ledger=str(ledger), started=str(started), runs=RUNS, tasks=CHAINS * DEPTH,
            chains=CHAINS, depth=DEPTH, retries=RETRIES,
        )
    )  # fmt: skip
    DagProcessor(timeout=30).run_once()
    assert not list(DagImportError.objects.values_list("filename", "message"))
    DagModel.objects.filter(dag_id="ledger").update(is_paused=False)

    port = free_port()
    env = celery_server_env(
        tmp_path,
        port,
        redis_server.url,
        ORCH_PARALLELISM=str(WORKERS * CONCURRENCY + 4),  # some messages wait in the broker
        ORCH_TASK_HEARTBEAT_TIMEOUT="6",
        # A message lost with its worker before the claim is sent again after 20 s.
        ORCH_TASK_QUEUED_TIMEOUT="60",
        ORCH_SCHEDULER_IDLE_SLEEP="0.2",
    )
    schedulers_count = 2 if connection.vendor == "postgresql" else 1
    api = start_api_server(env, port)
    schedulers = [start_scheduler(env) for _ in range(schedulers_count)]
    slots = Slots(redis_server.url, logs)
    kill_points = sorted(rng.sample(range(20, 230), KILLS))  # ledger lines before each kill
    killed: list[str] = []
    began = time.monotonic()
    try:
        for slot in range(WORKERS):
            slots.start(slot)
        runs = [
            do_trigger_dag("ledger", Actor(name="ledger"), run_id=f"ledger-{n}").pk
            for n in range(RUNS)
        ]
        for point in kill_points:
            wait_until(
                lambda p=point: len(ledger_lines(ledger)) >= p,
                f"{point} ledger lines (kills so far: {killed})",
                timeout=300,
            )
            busy = wait_until(lambda: slots.busy(started), "a worker to be mid-task", timeout=300)
            slot = rng.choice(sorted(busy))
            killed.append(slots.workers[slot].name)
            print(f"kill {len(killed)} at {time.monotonic() - began:.1f} s: {killed[-1]}")
            slots.workers[slot].kill()  # its host is lost: the worker and every process below
            slots.forget_the_dead(started)
            slots.start(slot)
            for proc in [api, *schedulers]:
                assert proc.poll() is None, "a server process died"
        wait_until(lambda: runs_finished(runs), "every run to finish", timeout=600, interval=0.2)
    finally:
        slots.stop_all()
        for proc in [*schedulers, api]:
            stop(proc)
    print(f"FIGURE ledger test: {time.monotonic() - began:.1f} s, killed {killed}")

    tis = list(TaskInstance.objects.filter(dag_id="ledger"))
    assert len(tis) == RUNS * CHAINS * DEPTH
    unfinished = sorted((ti.run_id, ti.task_id, ti.state) for ti in tis if ti.state != "success")
    assert not unfinished, f"seed {SEED}: task instances not successful: {unfinished}"
    assert set(DagRun.objects.filter(pk__in=runs).values_list("state", flat=True)) == {"success"}

    # The database's tries: every earlier try (history) and each instance's current one.
    def key(row) -> str:
        return f"{row.dag_id},{row.task_id},{row.run_id},{row.map_index}/{row.try_number}"

    history = list(TaskInstanceHistory.objects.filter(dag_id="ledger"))
    known_tries = {key(ti) for ti in tis} | {key(h) for h in history}
    successful = {key(ti) for ti in tis}
    counts = Counter(ledger_lines(ledger))

    twice = sorted(line for line, n in counts.items() if n > 1)
    assert not twice, f"seed {SEED}: tries whose side effect happened more than once: {twice}"
    missing = sorted(successful - set(counts))
    assert not missing, f"seed {SEED}: successful tries with no ledger line: {missing}"
    unknown = sorted(set(counts) - known_tries)
    assert not unknown, f"seed {SEED}: ledger lines of tries the database lacks: {unknown}"
    # History holds every ended try; those before an instance's last one were failed from
    # outside (their worker was lost), none of them succeeded.
    last_try = {ti.pk: ti.try_number for ti in tis}
    earlier = [h for h in history if h.try_number < last_try[h.task_instance_id]]
    assert not [key(h) for h in earlier if h.state == "success"], "a success was run again"
    assert len(killed) == KILLS
    assert earlier, "the kills hit running tries, which were retried"
    # A killed try's log says which worker was lost (the heartbeat timeout's line).
    logs_dir = tmp_path / "logs" / "dag_id=ledger"
    naming = [
        h
        for h in earlier
        if any(
            f"on Celery worker {name}" in log_text(logs_dir, h.run_id, h.task_id, h.try_number)
            for name in killed
        )
    ]
    assert naming, "no failed try's log names the worker that was lost"
    print(
        f"FIGURE ledger test: {len(earlier)} tries retried after {KILLS} worker kills, "
        f"{len(naming)} of them with a log line naming the killed worker"
    )


def log_text(logs_dir: Path, run_id: str, task_id: str, try_number: int) -> str:
    path = logs_dir / f"run_id={run_id}" / f"task_id={task_id}" / f"attempt={try_number}.log"
    return path.read_text(errors="replace") if path.exists() else ""
