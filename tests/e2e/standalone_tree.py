"""A real `manage.py standalone` tree for fault tests: its own ORCH_HOME and its own database
(an SQLite file, or a scratch PostgreSQL database when the suite runs on PostgreSQL), driven by
the CLI and read with plain SQL, so the test process shares nothing with it but files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
import uuid
from contextlib import suppress
from pathlib import Path

import psutil
from django.db import connection

from scheduler.benchmarks.engine import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]


class ScratchDatabase:
    """Where the tree keeps its rows: SQLite in its home, or a fresh PostgreSQL database."""

    def __init__(self, home: Path) -> None:
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            self.path = home / "orchestrator.db"
            self.url = f"sqlite:///{self.path}"
            return
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        self.server = f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        self.name = f"lifecycle_{uuid.uuid4().hex[:12]}"
        self.url = f"{self.server}/{self.name}"
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            admin.execute(statement)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.vendor == "sqlite":
            if not self.path.exists():
                return []
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.url) as db:
            return db.execute(sql.replace("?", "%s"), params).fetchall()

    def drop(self) -> None:
        if self.vendor != "sqlite":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class StandaloneTree:
    """Starts, inspects, signals and restarts one standalone process tree."""

    def __init__(self, home: Path, **settings: str) -> None:
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        # Files through which a test and its tasks talk (a task waits for "release").
        self.signals = home.parent / "signals"
        self.signals.mkdir(parents=True, exist_ok=True)
        self.db = ScratchDatabase(home)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
        self.env.update(
            {
                "ORCH_HOME": str(home),
                "ORCH_DATABASE_URL": self.db.url,
                "ORCH_LOAD_EXAMPLES": "false",
                "ORCH_DAGS_ARE_PAUSED_AT_CREATION": "false",
                "ORCH_DAG_PROCESSOR_REFRESH_INTERVAL": "0.5",
                "ORCH_TASK_HEARTBEAT_INTERVAL": "1",
                # Large, so that a test that passes proves the recovery at start, not these.
                "ORCH_TASK_HEARTBEAT_TIMEOUT": "36000",
                "ORCH_TASK_QUEUED_TIMEOUT": "36000",
                **{f"ORCH_{k}": v for k, v in settings.items()},
            }
        )
        self.proc: subprocess.Popen | None = None
        self.output = home / "standalone.out"
        self.seen: set[int] = set()

    # -- the tree ------------------------------------------------------------------------

    def start(self) -> None:
        out = self.output.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "standalone", "--port", str(self.port)],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        wait_until(self.answers, "the API server to answer")
        wait_until(lambda: self.find_child("scheduler"), "the scheduler to start")

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=2)
            return True
        except OSError:
            return False

    def tree(self) -> list[psutil.Process]:
        assert self.proc is not None
        try:
            root = psutil.Process(self.proc.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        self.seen.update(p.pid for p in processes)
        return processes

    def child(self, name: str) -> psutil.Process:
        """The api-server or scheduler child of the supervisor (fails when there is none)."""
        found = self.find_child(name)
        assert found is not None, f"no {name} in the tree"
        return found

    def find_child(self, name: str) -> psutil.Process | None:
        marker = "uvicorn" if name == "api-server" else "scheduler"
        assert self.proc is not None
        with suppress(psutil.Error):
            for process in psutil.Process(self.proc.pid).children():
                if marker in " ".join(process.cmdline()[1:4]):
                    return process
        return None

    def kill_everything(self) -> None:
        """SIGKILL every process of the tree at once (a power cut, an OOM of the cgroup)."""
        processes = self.tree()
        for process in processes:
            with suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(processes, timeout=30)
        assert self.proc is not None
        self.proc.wait(30)

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.tree()  # remember who was there
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 180.0) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            # Say what was still there and what the tree printed last: the failure is then
            # diagnosable from the CI log alone.
            alive = []
            for process in self.tree():
                with suppress(psutil.Error):
                    alive.append(f"{process.pid} {process.status()} {' '.join(process.cmdline())}")
            tail = self.output.read_text(errors="replace").splitlines()[-60:]
            raise AssertionError(
                f"the standalone tree did not exit within {timeout:g} s; still running:\n"
                + "\n".join(alive)
                + "\n--- its last output ---\n"
                + "\n".join(tail)
            ) from None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.send(sig)
        return self.wait()

    def leftovers(self) -> list[int]:
        alive = []
        for pid in self.seen:
            with suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
        return alive

    def close(self) -> None:
        """Whatever happened in the test: nothing left running, the scratch database gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill_everything()
        for pid in self.leftovers():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.db.drop()

    # -- driving it ----------------------------------------------------------------------

    def manage(self, *argv: str) -> str:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    def add_dag(self, name: str, source: str) -> None:
        (self.dags / name).write_text(source)

    def wait_parsed(self, dag_id: str) -> None:
        wait_until(
            lambda: self.db.rows("SELECT 1 FROM dag WHERE dag_id = ? AND NOT is_paused", (dag_id,)),
            f"{dag_id} to be parsed",
        )

    def trigger(self, dag_id: str, run_id: str) -> None:
        self.manage("dags", "trigger", dag_id, "--run-id", run_id)

    def tries(self, run_id: str) -> dict[str, tuple[str | None, int, int]]:
        """task_id → (state, try_number, max_tries) of one run."""
        rows = self.db.rows(
            "SELECT task_id, state, try_number, max_tries FROM task_instance WHERE run_id = ?",
            (run_id,),
        )
        return {task_id: (state, n, m) for task_id, state, n, m in rows}

    def run_state(self, run_id: str) -> str | None:
        rows = self.db.rows("SELECT state FROM dag_run WHERE run_id = ?", (run_id,))
        return rows[0][0] if rows else None

    def history(self, run_id: str) -> list[tuple[str, int, str]]:
        return self.db.rows(
            "SELECT task_id, try_number, state FROM task_instance_history WHERE run_id = ?",
            (run_id,),
        )

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        path = (
            self.home
            / "logs"
            / f"dag_id={dag_id}"
            / f"run_id={run_id}"
            / f"task_id={task_id}"
            / f"attempt={try_number}.log"
        )
        return path.read_text() if path.exists() else ""
