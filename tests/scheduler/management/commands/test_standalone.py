"""`manage.py standalone` end to end: it comes up (HTTP answers, admin created, examples
parsed, a task runs) and Ctrl-C stops the whole tree with nothing left behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from scheduler.benchmarks.engine import free_port
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.sqlite_only  # it runs its own embedded SQLite whatever the suite uses


def manage(home: Path, *argv: str, timeout: float = 60) -> str:
    env = _env(home)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    env["ORCH_HOME"] = str(home)
    return env


def rows(home: Path, sql: str, *params: str) -> list[tuple]:
    """The tree's SQLite database, read directly (read-only) for polling: asking `manage.py`
    every 50 ms started a whole Django process each time, a busy core for the whole wait."""
    path = home / "orchestrator.db"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except OSError:
        return False


def test_standalone_runs_a_dag_and_stops_cleanly_on_ctrl_c(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "standalone", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/admin/login/"), "HTTP")
        assert (home / "standalone_admin_password.txt").read_text().strip()
        wait_until(
            lambda: rows(home, "SELECT 1 FROM dag WHERE dag_id = ?", "example_branching"),
            "the example DAGs to be parsed",
            timeout=180,
        )
        assert "example_branching" in manage(home, "dags", "list", "-o", "plain")
        manage(home, "dags", "unpause", "example_branching")
        manage(home, "dags", "trigger", "example_branching", "--run-id", "smoke")
        wait_until(
            lambda: rows(
                home,
                "SELECT 1 FROM dag_run WHERE run_id = ? AND state IN ('success', 'failed')",
                "smoke",
            ),
            "the triggered run to finish",
            timeout=180,
        )
        assert '"state": "success"' in manage(
            home, "dags", "list-runs", "example_branching", "-o", "json"
        )
        tree = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
        assert len(tree) >= 4  # supervisor, api server, scheduler (+processor), forkserver
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped" in out

    def all_gone():
        alive = [
            p
            for p in tree
            if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        return not alive

    wait_until(all_gone, "every process of the tree to exit", timeout=30)
