"""The standalone footprint: start `manage.py standalone` (examples loaded) in a throw-away
ORCH_HOME, time how long it takes to answer HTTP, let it settle, then measure the RSS of its
whole process tree and count its processes; stop it with SIGINT and check nothing is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import psutil
from django.conf import settings

from scheduler.benchmarks.engine import free_port, tree_rss, tree_sum, wait_http


def run(settle_seconds: float = 15.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="orch-standalone-bench-") as home:
        env = {**os.environ, "ORCH_HOME": home, "ORCH_LOG_LEVEL": "WARNING"}
        for key in ("ORCH_DATABASE_URL", "ORCH_DAGS_FOLDER", "ORCH_LOAD_EXAMPLES", "ORCH_API_URL"):
            env.pop(key, None)
        port = free_port()
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "standalone",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/admin/login/", timeout=120)
            http_after = time.monotonic() - started
            time.sleep(settle_seconds)
            samples = []
            for _ in range(10):
                samples.append(tree_rss(proc.pid))
                time.sleep(0.2)
            root = psutil.Process(proc.pid)
            members = [root, *root.children(recursive=True)]
            pss = tree_sum(proc.pid, lambda p: p.memory_full_info().pss)
            count = len(members)
            pids = [p.pid for p in members]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.5)
        leftovers = [
            pid
            for pid in pids
            if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        ]
        return {
            "seconds_to_answer_http": round(http_after, 2),
            "idle_processes": count,
            "idle_tree_rss_mb": round(max(samples) / 2**20, 1),
            "idle_tree_pss_mb": round(pss / 2**20, 1),
            "exit_code_after_ctrl_c": proc.returncode,
            "processes_left_after_ctrl_c": len(leftovers),
        }
