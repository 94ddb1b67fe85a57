"""The REST API under load: p50/p95 latency of listing 100 task instances and of triggering a
run, with 20 concurrent clients, against a real uvicorn server on loopback.

A throw-away ORCH_HOME holds a fresh SQLite database (migrated, then seeded with one DAG of
100 tasks, one run of it and an Admin user); the API server runs in its own process; the
clients are threads here, each with its own keep-alive connection and the same bearer token.
Every phase is bounded twice: a number of requests and a wall-clock limit, whichever comes
first. No scheduler runs, so triggered runs stay queued (their 100 task instances are still
written, which is the cost being measured).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings

from scheduler.benchmarks.engine import free_port, start_api_server, wait_http

DAG_ID = "api_bench"
RUN_ID = "seed_run"
TASKS = 100
CLIENTS = 20
LIST_REQUESTS = 1000
TRIGGER_REQUESTS = 200
PHASE_TIME_LIMIT = 60.0


def seed() -> str:
    """Inside the benchmark's Django process: the DAG, its run and a user; returns a token."""
    from django.contrib.auth.models import User

    from dagruns.api.rest.auth import issue_token
    from dagruns.domain.roles import Role, assign_role
    from dagruns.models import DagModel, DagRun, DagVersion, TaskInstance

    tasks: list[dict[str, Any]] = [
        {
            "task_id": f"task_{i:03}",
            "task_type": "EmptyOperator",
            "retries": 0,
            "trigger_rule": "all_success",
            "downstream_task_ids": [],
            "upstream_task_ids": [],
        }
        for i in range(TASKS)
    ]
    serialized = {
        "dag_id": DAG_ID,
        "fileloc": f"/bench/{DAG_ID}.py",
        "schedule": None,
        "tasks": tasks,
    }
    dag = DagModel.objects.create(dag_id=DAG_ID, fileloc=f"/bench/{DAG_ID}.py", is_paused=True)
    version = DagVersion.objects.create(
        dag=dag,
        version_number=1,
        serialized=serialized,
        structure_hash="b" * 64,
        fileloc=dag.fileloc,
    )
    from django.utils import timezone

    now = timezone.now()
    run = DagRun.objects.create(
        dag=dag,
        run_id=RUN_ID,
        run_type="manual",
        state="running",
        run_after=now,
        dag_version=version,
    )
    TaskInstance.objects.bulk_create(
        TaskInstance(
            dag_run=run, dag_version=version, dag_id=DAG_ID, run_id=RUN_ID, task_id=t["task_id"]
        )
        for t in tasks
    )
    user = User.objects.create_user("bench", password="bench-password-123")
    assign_role(user, Role.ADMIN)
    return issue_token(user)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def load(
    name: str,
    request: Callable[[requests.Session, int], requests.Response],
    expected: int,
    total: int,
    clients: int = CLIENTS,
    time_limit: float = PHASE_TIME_LIMIT,
) -> dict[str, Any]:
    """`total` requests shared by `clients` threads (or fewer, if `time_limit` runs out)."""
    latencies: list[float] = []
    failures: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + time_limit

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                try:
                    response = request(session, n)
                    outcome = str(response.status_code)
                    ok = response.status_code == expected
                except requests.RequestException as exc:
                    outcome, ok = type(exc).__name__, False
                elapsed = time.perf_counter() - started
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        failures[outcome] = failures.get(outcome, 0) + 1

    wall = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 30)
    wall = time.perf_counter() - wall
    ms = [x * 1000 for x in latencies]
    return {
        "name": name,
        "clients": clients,
        "requests_ok": len(latencies),
        "failures": failures,
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        "requests_per_second": round(len(latencies) / wall, 1) if wall else None,
        "wall_seconds": round(wall, 2),
    }


def run(
    clients: int = CLIENTS,
    list_requests: int = LIST_REQUESTS,
    trigger_requests: int = TRIGGER_REQUESTS,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orch-api-bench-") as home:
        env = {
            **os.environ,
            "ORCH_HOME": home,
            "ORCH_DATABASE_URL": f"sqlite:///{home}/bench.db",
            "ORCH_SECRET_KEY": "api-benchmark-secret-key-" + os.urandom(8).hex(),
            "ORCH_LOAD_EXAMPLES": "false",
            "ORCH_LOG_LEVEL": "WARNING",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        seeded = subprocess.run(
            [*manage, "shell", "-c", "from scheduler.benchmarks.api import seed; print(seed())"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        token = seeded.stdout.strip().splitlines()[-1]
        port = free_port()
        server = start_api_server(port, env)
        base = f"http://127.0.0.1:{port}/api/v2"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            wait_http(f"{base}/version", timeout=60)
            list_url = f"{base}/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances?limit=100"

            def list_tis(session: requests.Session, n: int) -> requests.Response:
                return session.get(list_url, headers=headers, timeout=30)

            def trigger(session: requests.Session, n: int) -> requests.Response:
                return session.post(
                    f"{base}/dags/{DAG_ID}/dagRuns",
                    json={"dag_run_id": f"bench_{n:05}", "conf": {"n": n}},
                    headers=headers,
                    timeout=30,
                )

            check = requests.get(list_url, headers=headers, timeout=30)
            check.raise_for_status()
            assert len(check.json()["task_instances"]) == TASKS
            load("warm-up", list_tis, 200, total=2 * clients, clients=clients)
            listing = load("list 100 task instances", list_tis, 200, list_requests, clients)
            triggering = load("trigger a run", trigger, 200, trigger_requests, clients)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    return {
        "server": "uvicorn, 1 process, SQLite (WAL), loopback",
        "list_task_instances": listing,
        "trigger_dag_run": triggering,
    }
