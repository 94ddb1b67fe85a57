"""Bounded database connections on PostgreSQL: a real API server (uvicorn, ASGI) answering 200
concurrent Execution API calls at a time while three real schedulers run a DAG through it.
PostgreSQL's own count of connections to the test database (pg_stat_activity), sampled
throughout, stays within the processes' pools, and no call is answered with a 500.

Before the pool, under ASGI every request's thread kept its own persistent connection: 60
concurrent calls left 63 idle connections, and with three schedulers PostgreSQL refused
clients (the Execution API answered 500, tries failed and tasks ran twice)."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.tokens import issue_token
from dagruns.models import DagImportError, DagModel, DagRun, TaskInstance, Variable
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.processor.loop import DagProcessor
from tests.builders import make_run
from tests.processes import free_port, server_env, start_api_server, start_scheduler, stop

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

CONCURRENT = 200
ROUNDS = 3
POOL_MAX = 6  # per process; far fewer than the calls in flight, so requests must share
SCHEDULERS = 3
BUSY_DAG = """\
from datetime import datetime
from dagruns.sdk import DAG, BashOperator
with DAG("busy", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=64) as dag:
    for i in range(30):
        BashOperator(task_id=f"t{i:02d}", bash_command="true")
"""


class ConnectionSampler(threading.Thread):
    """Counts this test database's connections, as PostgreSQL sees them, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.samples = 0
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                while not self.halt.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    )
                    self.peak = max(self.peak, cursor.fetchone()[0])
                    self.samples += 1
                    self.halt.wait(0.01)
        finally:
            connection.close()


def call(url: str, token: str, method: str, body: bytes | None) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def burst(base: str, tries: list[tuple[str, str]], statuses: Counter) -> None:
    """CONCURRENT calls released at once: heartbeats (writes) and variable reads, alternating."""
    barrier = threading.Barrier(CONCURRENT)
    lock = threading.Lock()

    def one(i: int) -> None:
        ti_id, token = tries[i % len(tries)]
        barrier.wait()
        if i % 2:
            status = call(f"{base}/execution/variables/greeting", token, "GET", None)
        else:
            url = f"{base}/execution/task-instances/{ti_id}/heartbeat"
            status = call(url, token, "PUT", b'{"hostname": "probe", "pid": 1}')
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)


def test_200_concurrent_execution_api_calls_and_three_schedulers_stay_within_the_pools(
    dags_folder, orch_settings, tmp_path
):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    (dags_folder / "busy.py").write_text(BUSY_DAG)
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists()
    DagModel.objects.filter(dag_id="busy").update(is_paused=False)
    # Tries the test itself calls for: running, of a paused DAG the schedulers leave alone.
    probe = make_run(dag_id="probe", edges={f"p{i}": [] for i in range(20)})
    DagModel.objects.filter(dag_id="probe").update(is_paused=True)
    TaskInstance.objects.filter(dag_run=probe).update(
        state="running", try_number=1, hostname="probe", pid=1, last_heartbeat_at=timezone.now()
    )
    tries = [
        (str(pk), issue_token(pk, 1))
        for pk in TaskInstance.objects.filter(dag_run=probe).values_list("pk", flat=True)
    ]
    Variable.objects.create(key="greeting", val="hello")

    port = free_port()
    env = server_env(
        tmp_path,
        port,
        ORCH_DB_POOL_SIZE="1",
        ORCH_DB_POOL_MAX_SIZE=str(POOL_MAX),
        ORCH_TASK_HEARTBEAT_INTERVAL="0.5",
        ORCH_SCHEDULER_IDLE_SLEEP="0.05",
    )
    sampler = ConnectionSampler()
    sampler.start()
    api = start_api_server(env, port)
    schedulers = [start_scheduler(env) for _ in range(SCHEDULERS)]
    statuses: Counter = Counter()
    try:
        runs = [do_trigger_dag("busy", Actor(name="test"), run_id=f"busy-{i}").pk for i in range(3)]
        for _ in range(ROUNDS):
            burst(f"http://127.0.0.1:{port}", tries, statuses)
        deadline = time.monotonic() + 300
        while DagRun.objects.filter(pk__in=runs).exclude(state__in=DAGRUN_FINISHED).exists():
            assert time.monotonic() < deadline, "the busy runs did not finish within 300 s"
            assert all(s.poll() is None for s in schedulers), "a scheduler died"
            time.sleep(0.1)
    finally:
        for process in [*schedulers, api]:
            stop(process)
        sampler.halt.set()
        sampler.join(30)

    assert sum(statuses.values()) == CONCURRENT * ROUNDS
    assert set(statuses) <= {200, 204}, statuses
    busy = TaskInstance.objects.filter(dag_id="busy")
    assert set(busy.values_list("state", flat=True)) == {"success"}
    assert set(busy.values_list("try_number", flat=True)) == {1}, "no try failed or ran twice"
    # Each server process holds at most its pool, plus the one its bus listener holds for
    # LISTEN (dagruns/notify/bus.py); this test process holds two (its own and the sampler's).
    bound = (1 + SCHEDULERS) * (POOL_MAX + 1) + 2
    assert sampler.samples > 10
    assert sampler.peak <= bound, f"{sampler.peak} connections, the pools allow {bound}"
