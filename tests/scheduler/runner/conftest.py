"""End-to-end fixtures: DAG files on disk, rows in the test database, the real Execution API
behind pytest-django's live_server, and the runner in a real child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
LOGICAL_DATE = datetime(2024, 1, 1, tzinfo=UTC)
RUN_ID = "scheduled__2024-01-01T00:00:00+00:00"
RUNNER_TIMEOUT = 60.0

RUNNER_MAIN = """
import json, sys
from scheduler.runner.supervisor import run_workload

def peak_rss_kib():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (big) pytest parent.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

print("ready", flush=True)  # imports done: the test may now issue a short-lived token
try:
    # The executors' entry point, given the wire form as the local executor sends it: it exits.
    run_workload(bytearray(sys.stdin.buffer.readline()))
    code = None
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "peak_rss_kib": peak_rss_kib(),
                  "django": any(m.startswith("django") for m in sys.modules)}), flush=True)
sys.exit(code)
"""


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    """Logs and the scheduler wake-up registry under the test's own directory."""
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path


@dataclass
class RunnerProcess:
    """`run_workload` in a child process (a fresh interpreter: no Django, like a worker)."""

    process: subprocess.Popen
    workload: dict[str, Any]

    def wait(self, timeout: float = RUNNER_TIMEOUT) -> RunnerResult:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"the runner did not finish within {timeout} s:\n{err}") from None
        report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        return RunnerResult(self.process.returncode, report, err)

    def task_pid(self, timeout: float = 10.0) -> int:
        """The pid of the task process: the runner's child that leads its own process group.
        (Right after the fork the child has not yet called setpgrp; taking any child then
        made a test kill the wrong, short-lived pid now and again.)"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            children = path.read_text().split() if path.exists() else []
            for child in children:
                try:
                    stat = Path(f"/proc/{child}/stat").read_text()
                except OSError:
                    continue
                # Fields after the ")" that ends the command name: state, ppid, pgrp, …
                pgrp = int(stat.rsplit(")", 1)[1].split()[2])
                if pgrp == int(child):
                    return int(child)
            time.sleep(0.02)
        raise AssertionError("the runner never forked a task process")


@dataclass
class RunnerResult:
    returncode: int
    report: dict[str, Any]
    stderr: str


@dataclass
class Try:
    """One queued try in the database, its DAG file and its workload."""

    ti: Any
    dag_run: Any
    dag_file: Path
    workload: dict[str, Any]

    def refresh(self):
        self.ti.refresh_from_db()
        return self.ti

    def log_path(self) -> Path:
        from dagruns.domain import logs

        return logs.ti_log_path(self.ti)

    def log(self) -> str:
        path = self.log_path()
        return path.read_text() if path.exists() else ""

    def xcom(self, key: str = "return_value", task_id: str | None = None) -> Any:
        from dagruns.models import XCom

        row = XCom.objects.filter(
            dag_run=self.dag_run, task_id=task_id or self.ti.task_id, key=key
        ).first()
        return None if row is None else row.value

    def start(
        self, token_factory: Callable[[], str] | None = None, **overrides: Any
    ) -> RunnerProcess:
        """Start the runner; `token_factory` issues the token once the runner's imports are
        done (for tests of short-lived tokens, whatever the machine's speed)."""
        workload = {**self.workload, **overrides}
        process = subprocess.Popen(
            [sys.executable, "-c", RUNNER_MAIN],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert process.stdin is not None and process.stdout is not None
        if process.stdout.readline().strip() == "ready" and token_factory is not None:
            workload["token"] = token_factory()
        process.stdin.write(json.dumps(workload) + "\n")
        process.stdin.close()
        process.stdin = None
        return RunnerProcess(process, workload)

    def run(
        self,
        timeout: float = RUNNER_TIMEOUT,
        token_factory: Callable[[], str] | None = None,
        **overrides: Any,
    ) -> RunnerResult:
        return self.start(token_factory, **overrides).wait(timeout)


@pytest.fixture
def dags_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    return folder


@pytest.fixture
def make_try(transactional_db, live_server, dags_dir) -> Callable[..., Try]:
    """Write a DAG file, store its DAG, a running DAG run and the task instances, queue one
    task's first try and build its workload as the scheduler would (docs/engine.md)."""
    from dagruns.domain.tokens import issue_token
    from dagruns.models import DagModel, DagRun, DagVersion, TaskInstance
    from dagruns.sdk.dag_loader import import_dag_file
    from dagruns.sdk.serialization import dag_structure_hash, serialize_dag

    counter = iter(range(1000))

    def make(
        source: str,
        task_id: str,
        *,
        dag_id: str = "runner_test",
        conf: dict[str, Any] | None = None,
        logical_date: datetime | None = LOGICAL_DATE,
        run_id: str = RUN_ID,
        states: dict[str, str] | None = None,
        **workload_overrides: Any,
    ) -> Try:
        path = dags_dir / f"dag_{next(counter)}.py"
        path.write_text(textwrap.dedent(source).lstrip("\n"))
        sys.path.insert(0, str(dags_dir))
        try:
            dags = {dag.dag_id: dag for dag in import_dag_file(str(path))}
        finally:
            sys.path.remove(str(dags_dir))
        dag = dags[dag_id]
        serialized = serialize_dag(dag)
        model, _ = DagModel.objects.get_or_create(dag_id=dag_id, defaults={"fileloc": str(path)})
        version = DagVersion.objects.create(
            dag=model,
            version_number=model.versions.count() + 1,
            serialized=serialized,
            structure_hash=dag_structure_hash(serialized),
            fileloc=str(path),
        )
        run = DagRun.objects.create(
            dag=model,
            run_id=run_id,
            run_type="scheduled" if logical_date else "manual",
            state="running",
            logical_date=logical_date,
            data_interval_start=logical_date,
            data_interval_end=logical_date,
            run_after=logical_date or LOGICAL_DATE,
            start_date=LOGICAL_DATE,
            conf=conf or {},
            dag_version=version,
        )
        for task in dag.tasks:
            TaskInstance.objects.create(
                dag_run=run,
                dag_version=version,
                dag_id=dag_id,
                run_id=run_id,
                task_id=task.task_id,
                max_tries=task.retries,
                state=(states or {}).get(task.task_id),
            )
        ti = TaskInstance.objects.get(dag_run=run, task_id=task_id)
        ti.state = "queued"
        ti.try_number = 1
        ti.save(update_fields=["state", "try_number"])
        task = dag.get_task(task_id)
        timeout = task.execution_timeout.total_seconds() if task.execution_timeout else None
        workload = {
            "version": 2,
            "ti_id": str(ti.pk),
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "map_index": -1,
            "try_number": 1,
            "dag_fileloc": str(path),
            "dags_folder": str(dags_dir),
            "token": issue_token(ti.pk, 1),
            "api_url": live_server.url,
            "queue": "default",
            "executor_config": {},
            "execution_timeout": timeout,
            "pool": "default_pool",
            "heartbeat_interval": 5.0,
            **workload_overrides,
        }
        return Try(ti=ti, dag_run=run, dag_file=path, workload=workload)

    return make
