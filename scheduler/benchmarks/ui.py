"""The dashboard benchmark, on a throw-away ORCH_HOME (SQLite, the embedded default):

- grid: server time of `/dags/<dag>/` for a 500-task DAG with 25 runs (12,500 cells), through
  Django's full request stack in-process (median and p95 of repeated requests, after one
  warm-up that fills the per-version structure cache as a running server has it), with its
  query count and page size. Target: a median of under 200 ms of CPU (issue 15).
- live: the delay from a task-instance state change being committed to the browser's DOM
  showing it. A real uvicorn serves the page to headless Chromium (Debian's, via Playwright);
  this process commits state changes and publishes their events as the engine does
  (`events.notify`, after commit, over the local bus); a MutationObserver in the page stamps
  the moment the cell changes. Both clocks are this host's. Target: p95 under 300 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

from scheduler.benchmarks.engine import free_port, start_api_server, wait_http


def _stamp_into(stamps: list[float]) -> Callable[[], None]:
    """An on_commit callback recording when the commit happened (ms since the epoch)."""
    return lambda: stamps.append(time.time() * 1000)


CHROMIUM = "/usr/bin/chromium"
TASKS = 500
RUNS = 25
# The second DAG the query count is compared with: another size, the same count.
SMALL_TASKS = 50
SMALL_RUNS = 3
TARGET_GRID_MS = 200
TARGET_LIVE_P95_MS = 300


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def build_dag(dag_id: str = "bench_grid", tasks: int = TASKS, runs: int = RUNS):
    """A `tasks`-task DAG (groups of 50-task chains) with `runs` runs of task instances."""
    from dagruns.models import DagModel, DagRun, DagVersion, TaskInstance

    ids = [f"group_{g:02d}.task_{i:03d}" for g in range(tasks // 50) for i in range(50)]
    task_rows = []
    for n, task_id in enumerate(ids):
        nxt = ids[n + 1] if (n + 1) % 50 and n + 1 < len(ids) else None
        task_rows.append(
            {
                "task_id": task_id,
                "task_type": "BashOperator",
                "label": task_id.split(".")[1],
                "task_group_id": task_id.split(".")[0],
                "upstream_task_ids": [ids[n - 1]] if n % 50 else [],
                "downstream_task_ids": [nxt] if nxt else [],
                "retries": 0,
                "trigger_rule": "all_success",
            }
        )
    groups = [
        {
            "group_id": f"group_{g:02d}",
            "label": f"group_{g:02d}",
            "children": ids[g * 50 : (g + 1) * 50],
        }
        for g in range(tasks // 50)
    ]
    serialized = {
        "dag_id": dag_id,
        "fileloc": f"/dags/{dag_id}.py",
        "tasks": task_rows,
        "params": {},
        "task_group": {"group_id": None, "children": groups},
    }
    dag = DagModel.objects.create(dag_id=dag_id, fileloc=f"/dags/{dag_id}.py")
    version = DagVersion.objects.create(
        dag=dag,
        version_number=1,
        serialized=serialized,
        structure_hash=hashlib.sha256(json.dumps(serialized).encode()).hexdigest(),
        fileloc=dag.fileloc,
    )
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for r in range(runs):
        when = t0 + timedelta(days=r)
        run = DagRun.objects.create(
            dag=dag,
            run_id=f"scheduled__{when.isoformat()}",
            run_type="scheduled",
            state="success" if r < runs - 1 else "running",
            logical_date=when,
            run_after=when,
            start_date=when,
            end_date=when + timedelta(minutes=30) if r < runs - 1 else None,
            dag_version=version,
        )
        TaskInstance.objects.bulk_create(
            [
                TaskInstance(
                    dag_run=run,
                    dag_version=version,
                    dag_id=dag_id,
                    run_id=run.run_id,
                    task_id=task_id,
                    state="success" if r < runs - 1 else None,
                    try_number=1 if r < runs - 1 else 0,
                    # Each finished task's own start and end, as a real run has (the cells'
                    # tooltips show them).
                    start_date=when + timedelta(seconds=3 * n) if r < runs - 1 else None,
                    end_date=when + timedelta(seconds=3 * n + 3.5) if r < runs - 1 else None,
                    duration=3.5 if r < runs - 1 else None,
                )
                for n, task_id in enumerate(ids)
            ],
            batch_size=1000,
        )
    return dag, ids


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm, as a running server is: its DAG version's structure is cached
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def measure_grid(dag_id: str, small_dag_id: str, repeat: int = 15) -> dict:
    """Server time of the grid page, wall clock and this process's CPU time (the machine is
    shared: CPU time is what the page costs, wall time adds the wait for a core), and its
    query count for 1 and 25 runs of this DAG and for a 50-task DAG: constant means equal."""
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="bench-pw-123"
    )
    client = Client()
    client.force_login(user)
    url = f"/dags/{dag_id}/"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - cpu_started))
    queries = {
        f"{TASKS}x{RUNS}": _queries(client, url),
        f"{TASKS}x1": _queries(client, f"{url}?num_runs=1"),
        f"{SMALL_TASKS}x{SMALL_RUNS}": _queries(client, f"/dags/{small_dag_id}/"),
    }
    return {
        "tasks": TASKS,
        "runs": RUNS,
        "server_ms_median": round(statistics.median(times), 1),
        "server_ms_p95": round(_pct(times, 0.95), 1),
        "server_cpu_ms_median": round(statistics.median(cpu), 1),
        "queries": queries[f"{TASKS}x{RUNS}"],
        "queries_by_size": queries,
        "queries_constant": len(set(queries.values())) == 1,
        "html_kb": round(len(response.content) / 1024, 1),
        "target_ms": TARGET_GRID_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def measure_live(dag_id: str, ids: list[str], samples: int = 40) -> dict:
    """Commit → DOM delay through a real uvicorn and Chromium."""
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} is missing (.ci/browser.sh installs it)"}
    from django.db import transaction
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from dagruns.models import DagRun, TaskInstance
    from dagruns.notify import events

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop shares this thread
    port = free_port()
    env = {**os.environ, "ORCH_LOG_LEVEL": "WARNING"}
    env.pop("ORCH_REDIS_URL", None)
    api = start_api_server(port, env, cwd=settings.BASE_DIR)
    delays: list[float] = []
    missed = 0  # changes that did not reach the DOM within 10 s
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/login/")
        run = DagRun.objects.filter(dag_id=dag_id).order_by("-run_after").first()
        assert run is not None, "the benchmark seeds its runs before measuring"
        tis = {ti.task_id: ti for ti in TaskInstance.objects.filter(dag_run=run)}
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(base + "/login/")
            page.fill("#id_username", "bench")
            page.fill("#id_password", "bench-pw-123")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            page.goto(f"{base}/dags/{dag_id}/")
            page.wait_for_selector("#live[data-ws-state='open']", state="attached", timeout=30_000)
            from dagruns.ui.keys import cell_id

            for n in range(samples):
                task_id = ids[(n * 37) % len(ids)]
                state = "running" if n % 2 == 0 else "success"
                dom_id = cell_id(run.pk, task_id)
                # The observer stamps the moment on <html data-seen>: waiting for an attribute
                # needs no eval, which the page's Content-Security-Policy forbids.
                page.evaluate(
                    """([id, state]) => { delete document.documentElement.dataset.seen;
                      const obs = new MutationObserver(() => {
                        const el = document.getElementById(id);
                        if (el && el.dataset.state === state) {
                          document.documentElement.dataset.seen =
                            String(performance.timeOrigin + performance.now());
                          obs.disconnect(); }
                      });
                      // The whole document: a grid refreshed whole (after a websocket
                      // reconnect under load) replaces #grid, which would detach an observer
                      // on it and miss the change it brings.
                      obs.observe(document.documentElement,
                                  {subtree: true, childList: true, attributes: true}); }""",
                    [dom_id, state],
                )
                committed: list[float] = []
                ti = tis[task_id]
                with transaction.atomic():
                    TaskInstance.objects.filter(pk=ti.pk).update(state=state, try_number=1)
                    transaction.on_commit(_stamp_into(committed))
                    events.notify(
                        "ti", dag_id=dag_id, run_id=run.run_id, task_id=task_id, try_number=1
                    )
                try:
                    seen = page.wait_for_selector(
                        "html[data-seen]", state="attached", timeout=10_000
                    )
                except PlaywrightTimeout:
                    missed += 1  # reported, never dropped silently
                    continue
                assert seen is not None
                delays.append(float(seen.get_attribute("data-seen") or "nan") - committed[0])
                time.sleep(0.05)
            browser.close()
    finally:
        os.killpg(api.pid, 15)
        api.wait(15)
    if not delays:
        return {"samples": 0, "missed": missed, "error": "no change reached the DOM"}
    return {
        "samples": len(delays),
        # Changes not seen within 10 s, left out of the percentiles (0 when all arrived).
        "missed": missed,
        "p50_ms": round(_pct(delays, 0.5), 1),
        "p95_ms": round(_pct(delays, 0.95), 1),
        "max_ms": round(max(delays), 1),
        "target_p95_ms": TARGET_LIVE_P95_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run_inside() -> dict:
    dag, ids = build_dag()
    small, _ = build_dag("bench_grid_small", tasks=SMALL_TASKS, runs=SMALL_RUNS)
    results = {"grid": measure_grid(dag.dag_id, small.dag_id)}
    results["live_update"] = measure_live(dag.dag_id, ids)
    return results


def run() -> dict:
    """Run in a child `manage.py benchmark ui --inside` on a fresh ORCH_HOME, so it never
    touches the caller's database."""
    with tempfile.TemporaryDirectory(prefix="orch-ui-bench-") as home:
        env = {
            **os.environ,
            "ORCH_HOME": home,
            "ORCH_DATABASE_URL": f"sqlite:///{home}/bench.db",
            "ORCH_LOAD_EXAMPLES": "false",
            "ORCH_LOG_LEVEL": "WARNING",
            "ORCH_DEBUG": "false",
        }
        env.pop("ORCH_DAGS_FOLDER", None)
        env.pop("ORCH_REDIS_URL", None)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        out = subprocess.run(
            [*manage, "benchmark", "ui", "--inside"],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:  # the child's own error, not only its exit status
            raise RuntimeError(f"benchmark ui failed:\n{out.stderr[-4000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
