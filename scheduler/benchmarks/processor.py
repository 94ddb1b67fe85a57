"""The DAG-processor benchmark: `dag_processor --once` over many generated DAG files, cold
(every file new) and warm (nothing changed), in a throw-away ORCH_HOME on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

from scheduler.benchmarks.measure import run_measured

DAG_FILE = """\
from datetime import datetime, timedelta
from dagruns.sdk import DAG, BashOperator, PythonOperator


def work(n):
    return n


with DAG(
    dag_id="bench_{index:04d}",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    tags=["bench"],
    default_args={{"retries": 1, "retry_delay": timedelta(seconds=5)}},
) as dag:
    previous = None
    for i in range({tasks}):
        if i % 2:
            current = BashOperator(task_id=f"bash_{{i}}", bash_command="echo {{{{ ds }}}} " + str(i))
        else:
            current = PythonOperator(task_id=f"py_{{i}}", python_callable=work, op_args=[i])
        if previous is not None:
            previous >> current
        previous = current
"""


def generate(folder: Path, files: int, tasks: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        (folder / f"bench_{index:04d}.py").write_text(DAG_FILE.format(index=index, tasks=tasks))


def run(files: int = 1000, tasks: int = 20, processes: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="orch-bench-") as home:
        env = {
            **os.environ,
            "ORCH_HOME": home,
            "ORCH_LOAD_EXAMPLES": "false",
            "ORCH_DATABASE_URL": f"sqlite:///{home}/bench.db",
        }
        env.pop("ORCH_DAGS_FOLDER", None)
        generate(Path(home) / "dags", files, tasks)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        once = [*manage, "dag_processor", "--once"]
        if processes:
            once += ["--parsing-processes", str(processes)]
        cold = run_measured(once, env)
        warm = run_measured(once, env)
        for m in (cold, warm):
            if m.returncode:
                raise RuntimeError(f"dag_processor failed:\n{m.output}")
        return {
            "files": files,
            "tasks_per_dag": tasks,
            "parsing_processes": processes or settings.ORCH.dag_processor_parsing_processes,
            "cold_seconds": round(cold.seconds, 2),
            "cold_peak_tree_rss_mb": cold.peak_tree_rss_mb,
            "warm_seconds": round(warm.seconds, 2),
            "warm_peak_tree_rss_mb": warm.peak_tree_rss_mb,
            "warm_speedup": round(cold.seconds / warm.seconds, 1),
            "cold_output": cold.output.strip().splitlines()[-1],
            "warm_output": warm.output.strip().splitlines()[-1],
        }
