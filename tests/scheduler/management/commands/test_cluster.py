"""`manage.py cluster` end to end: one command creates and migrates a PostgreSQL database that
did not exist, brings up the API server, two schedulers, the DAG processor, beat and two Celery
workers (the workers without database settings), a DAG runs on it, and SIGTERM stops the whole
tree with nothing left behind. Bad settings are one clear line, not a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from django.db import connection

from tests.brokers import redis_server  # noqa: F401
from tests.polling import wait_until
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.slow
# Celery beat comes with the housekeeping package; until it is there the tree runs without it.
BEAT_LANDED = (ROOT / "scheduler" / "housekeeping" / "beat.py").exists()

DAG = """\
from datetime import datetime
from dagruns.sdk import DAG, BashOperator

with DAG("clustered", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="a", bash_command="echo on $HOSTNAME") >> BashOperator(
        task_id="b", bash_command="true")
"""


def postgres_server() -> str:
    """The PostgreSQL server the suite uses (the machine's, 127.0.0.1:5432 by default)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return "postgresql://postgres@127.0.0.1:5432"


def admin_sql(statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{postgres_server()}/postgres", autocommit=True) as admin:
        cursor = admin.execute(statement)
        return cursor.fetchall() if cursor.description else []


def base_env(home: Path, **orch: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({"ORCH_HOME": str(home), **{f"ORCH_{k}": v for k, v in orch.items()}})
    return env


def manage(env: dict[str, str], *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


class Cluster:
    def __init__(self, home: Path, redis_url: str, *argv: str, **orch: str) -> None:
        self.home = home
        self.name = f"cluster_{uuid.uuid4().hex[:12]}"
        self.port = free_port()
        (home / "dags").mkdir(parents=True, exist_ok=True)
        self.env = base_env(
            home,
            DATABASE_URL=f"{postgres_server()}/{self.name}",
            REDIS_URL=redis_url,
            LOAD_EXAMPLES="false",
            DAGS_ARE_PAUSED_AT_CREATION="false",
            DAG_PROCESSOR_REFRESH_INTERVAL="0.5",
            **orch,
        )
        self.argv = argv
        self.output = home / "cluster.out"
        self.proc: subprocess.Popen | None = None
        self.seen: set[int] = set()

    def start(self) -> None:
        with self.output.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable, str(ROOT / "manage.py"), "cluster",
                    "--port", str(self.port), *self.argv,
                ],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=ROOT,
            )  # fmt: skip
        wait_until(self.up, "the cluster's banner", timeout=180)
        wait_until(self.answers, "the API server to answer", timeout=120)

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=5)
            return True
        except OSError:
            return False

    def up(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, self.output.read_text()
        return "orchestrator cluster is up" in self.output.read_text()

    def children(self) -> dict[str, psutil.Process]:
        """The supervisor's children by the name the output prefixes them with."""
        assert self.proc is not None
        found = {}
        for process in psutil.Process(self.proc.pid).children():
            with suppress(psutil.Error):
                self.seen.add(process.pid)
                cmd = process.cmdline()
                if "uvicorn" in cmd:
                    found["api-server"] = process
                elif "dag_processor" in cmd:
                    found["dag-processor"] = process
                elif "triggerer" in cmd:
                    found["triggerer"] = process
                elif "scheduler" in cmd:
                    found[f"scheduler-{sum(k.startswith('scheduler') for k in found) + 1}"] = (
                        process
                    )
                elif "beat" in cmd:
                    found["beat"] = process
                elif "worker" in cmd:
                    found[cmd[cmd.index("--hostname") + 1].split("@")[0]] = process
        return found

    def rows(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"{postgres_server()}/{self.name}") as db:
            return db.execute(sql).fetchall()

    def stop(self) -> int:
        assert self.proc is not None
        self.children()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(240)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with suppress(psutil.Error):
                for process in psutil.Process(self.proc.pid).children(recursive=True):
                    process.kill()
            self.proc.kill()
            self.proc.wait(30)
        for pid in self.seen:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        admin_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def leftovers(self) -> list[int]:
        alive = []
        for pid in self.seen:
            with suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
        return alive


def run_a_dag(cluster: Cluster) -> None:
    (cluster.home / "dags" / "clustered.py").write_text(DAG)
    wait_until(
        lambda: cluster.rows("SELECT 1 FROM dag WHERE dag_id = 'clustered' AND NOT is_paused"),
        "the DAG processor parsed the DAG",
        timeout=120,
    )
    done = manage(cluster.env, "dags", "trigger", "clustered", "--run-id", "first")
    assert done.returncode == 0, done.stderr
    wait_until(
        lambda: (
            cluster.rows("SELECT state FROM dag_run WHERE run_id = 'first'")
            in ([("success",)], [("failed",)])
        ),
        "the run finished",
        timeout=180,
    )
    assert cluster.rows("SELECT state FROM dag_run WHERE run_id = 'first'") == [("success",)]
    states = cluster.rows("SELECT task_id, state FROM task_instance WHERE run_id = 'first'")
    assert sorted(states) == [("a", "success"), ("b", "success")]


@pytest.mark.postgres_only
def test_one_command_brings_up_the_whole_distributed_set_up(tmp_path, redis_server):  # noqa: F811
    beat = [] if BEAT_LANDED else ["--no-beat"]
    cluster = Cluster(tmp_path / "home", redis_server.url, "--concurrency", "2", *beat)
    expected = {"api-server", "dag-processor", "scheduler-1", "scheduler-2", "worker-1", "worker-2"}
    expected |= {"triggerer"}
    expected |= {"beat"} if BEAT_LANDED else set()
    try:
        assert not admin_sql(f"SELECT 1 FROM pg_database WHERE datname = '{cluster.name}'")
        cluster.start()
        assert f"Created the database '{cluster.name}'" in cluster.output.read_text()
        assert (cluster.home / "cluster_admin_password.txt").exists()
        wait_until(lambda: set(cluster.children()) == expected, str(expected), timeout=120)
        children = cluster.children()
        for name in ("worker-1", "worker-2"):
            env = children[name].environ()
            assert "ORCH_DATABASE_URL" not in env and "ORCH_SECRET_KEY" not in env
            assert env["ORCH_REDIS_URL"] == redis_server.url
        run_a_dag(cluster)
        executors = cluster.rows("SELECT DISTINCT executor FROM task_instance")
        assert executors == [("celery",)]
        assert cluster.stop() == 0
        assert cluster.leftovers() == []
    finally:
        cluster.close()


def test_sqlite_is_refused_with_a_clear_error(tmp_path):
    env = base_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    done = manage(env, "cluster")
    assert done.returncode != 0
    assert "needs PostgreSQL" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_postgresql_is_a_clear_error(tmp_path):
    env = base_env(tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    done = manage(env, "cluster")
    assert done.returncode != 0
    assert "PostgreSQL at 127.0.0.1" in done.stderr and "ORCH_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgres_only
def test_an_unreachable_redis_is_a_clear_error_naming_the_variable(tmp_path):
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    env = base_env(
        tmp_path,
        DATABASE_URL=f"{postgres_server()}/{name}",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    try:
        done = manage(env, "cluster")
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert done.returncode != 0
    assert "Redis at redis://127.0.0.1" in done.stderr and "ORCH_REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_negative_count_is_refused(tmp_path):
    done = manage(base_env(tmp_path), "cluster", "--schedulers", "0")
    assert done.returncode != 0 and "--schedulers must be at least 1" in done.stderr
