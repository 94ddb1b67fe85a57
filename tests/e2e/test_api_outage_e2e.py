"""Issue 9, "Reports survive outages": the real API server (uvicorn) is SIGKILLed while tries
run, their tasks finish during the 30 s outage, and it is restarted on the same port. Every
runner keeps its final state and last log lines and retries until the server takes them: every
task ends `success` on its first try, its log complete.

Out of process from end to end (API server, scheduler, runners), on a database of its own of the
suite's kind: an SQLite file, or a throw-away PostgreSQL database on the suite's server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scheduler.benchmarks.engine import free_port, start_api_server, wait_http
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
TASKS = 8
LINES = 200
OUTAGE = 30.0  # the fault being simulated, not a timing assertion

pytestmark = pytest.mark.slow
QUERY = "SELECT task_id, state, try_number FROM task_instance"


@pytest.fixture
def own_database(tmp_path) -> Iterator[tuple[dict[str, str], Callable[[], list]]]:
    """(environment for the processes, a function returning the task instances' rows)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        path = tmp_path / "home" / "orchestrator.db"

        def rows_sqlite() -> list:
            with sqlite3.connect(path) as db:
                return [tuple(row) for row in db.execute(QUERY).fetchall()]

        yield {}, rows_sqlite
        return

    import psycopg

    params = connection.settings_dict
    name = f"runner_outage_{uuid.uuid4().hex[:12]}"
    server = {
        "host": params["HOST"] or "127.0.0.1",
        "port": params["PORT"] or 5432,
        "user": params["USER"],
        "password": params["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    url = f"postgresql://{auth}@{server['host']}:{server['port']}/{name}"

    def rows_postgres() -> list:
        with psycopg.connect(dbname=name, **server) as db:
            return [tuple(row) for row in db.execute(QUERY).fetchall()]

    try:
        yield {"ORCH_DATABASE_URL": url}, rows_postgres
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_tasks_that_finish_while_the_api_server_is_down_end_success_with_complete_logs(
    tmp_path, own_database
):
    database_env, tries = own_database
    home = tmp_path / "home"
    marks = tmp_path / "marks"
    marks.mkdir()
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "outage.py").write_text(
        textwrap.dedent(f"""
        import os, time
        from datetime import datetime
        from dagruns.sdk import DAG, PythonOperator

        def work(task_id):
            for i in range({LINES}):
                print(f"{{task_id}} before {{i}}")
            open(os.path.join({str(marks)!r}, "started-" + task_id), "w").close()
            while not os.path.exists(os.path.join({str(marks)!r}, "go")):
                time.sleep(0.05)
            for i in range({LINES}):
                print(f"{{task_id}} after {{i}}")
            return task_id

        with DAG("outage", schedule=None, start_date=datetime(2024, 1, 1),
                 max_active_tasks={TASKS}):
            for n in range({TASKS}):
                PythonOperator(task_id=f"t{{n}}", python_callable=work,
                               op_kwargs={{"task_id": f"t{{n}}"}}, retries=0)
        """)
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.update(
        ORCH_HOME=str(home),
        ORCH_API_URL=f"http://127.0.0.1:{port}",
        ORCH_TASK_HEARTBEAT_INTERVAL="0.5",
        ORCH_PARALLELISM=str(TASKS),
        **database_env,
    )

    def manage(*argv: str) -> str:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    manage("migrate", "--no-input")
    manage("dag_processor", "--once")
    manage("dags", "unpause", "outage")
    api = start_api_server(port, env, cwd=ROOT)
    scheduler_out = tmp_path / "scheduler.out"
    with scheduler_out.open("w") as out:
        scheduler = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "scheduler"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def all_started() -> bool:
        return len(list(marks.glob("started-*"))) == TASKS

    try:
        wait_http(f"http://127.0.0.1:{port}/admin/login/", timeout=120)
        manage("dags", "trigger", "outage")
        try:
            wait_until(all_started, "every task to start", 120)
        except AssertionError:
            # What the task instances and the scheduler said: the CI log alone explains it.
            raise AssertionError(
                f"not every task started: {sorted(tries())}\n"
                + "\n".join(scheduler_out.read_text(errors="replace").splitlines()[-40:])
            ) from None

        os.killpg(api.pid, signal.SIGKILL)  # the API server dies with requests in flight
        api.wait(30)
        (marks / "go").touch()  # every task finishes during the outage
        time.sleep(OUTAGE)
        api = start_api_server(port, env, cwd=ROOT)

        wait_until(
            lambda: all(
                state in ("success", "failed", "upstream_failed") for _, state, _ in tries()
            ),
            "every task to end",
            180,
        )
        assert sorted(tries()) == [(f"t{n}", "success", 1) for n in range(TASKS)]
        for n in range(TASKS):
            (log,) = (home / "logs").glob(f"dag_id=outage/run_id=*/task_id=t{n}/attempt=1.log")
            text = log.read_text()
            for i in range(LINES):
                assert f"t{n} before {i}\n" in text and f"t{n} after {i}\n" in text, log
            assert "Marking task as SUCCESS" in text
    finally:
        for process in (api, scheduler):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in (api, scheduler):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
