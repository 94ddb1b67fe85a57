"""Several triggerers, and one killed: every deferred task resumes exactly once.

Real `manage.py triggerer` processes share the triggers by lease. Each trigger appends a line
to a ledger when it starts running (with its process id) and waits for a release file; each
resumed task appends its task id to another ledger. Two triggerers racing on PostgreSQL never
start one trigger twice; a triggerer killed with SIGKILL has all its triggers taken over by
another once its heartbeat is older than ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from dagruns.models import DagRun, TaskInstance
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import triggerer_env as triggerer_env_of
from tests.polling import wait_until
from tests.processes import start_triggerer, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TASKS = 50
LEDGER_TRIGGERS = """
import asyncio, os
from dagruns.sdk import BaseTrigger, TriggerEvent


class LedgerTrigger(BaseTrigger):
    def __init__(self, ledger, release, key):
        super().__init__()
        self.ledger, self.release, self.key = ledger, release, key

    def serialize(self):
        return ("ledger_triggers.LedgerTrigger",
                {"ledger": self.ledger, "release": self.release, "key": self.key})

    async def run(self):
        with open(self.ledger, "a") as ledger:
            ledger.write(f"{self.key} {os.getpid()}\\n")
        while not os.path.exists(self.release):
            await asyncio.sleep(0.1)
        yield TriggerEvent(self.key)
"""
DAG = """
from airflow.sdk import BaseOperator
from ledger_triggers import LedgerTrigger

FOLDER = {folder!r}


class Waits(BaseOperator):
    def execute(self, context):
        self.defer(
            trigger=LedgerTrigger(FOLDER + "/started", FOLDER + "/release", self.task_id),
            method_name="resume",
        )

    def resume(self, context, event=None):
        with open(FOLDER + "/resumed", "a") as ledger:
            ledger.write(f"{{event}} {{context['ti'].try_number}}\\n")


with DAG("many_deferred", schedule=None, start_date=START, max_active_tasks=1000):
    for i in range({tasks}):
        Waits(task_id=f"w{{i:02d}}")
"""


class Ledgers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started = folder / "started"
        self.resumed = folder / "resumed"

    def starts(self) -> list[tuple[str, int]]:
        if not self.started.exists():
            return []
        return [
            (k, int(pid))
            for k, pid in (line.split() for line in self.started.read_text().splitlines())
        ]

    def resumes(self) -> list[str]:
        return self.resumed.read_text().splitlines() if self.resumed.exists() else []

    def release(self) -> None:
        (self.folder / "release").write_text("go")


@pytest.fixture
def ledgers(engine: Engine, tmp_path) -> Ledgers:
    folder = tmp_path / "ledgers"
    folder.mkdir()
    (engine.folder / "ledger_triggers.py").write_text(LEDGER_TRIGGERS)
    engine.add("many_deferred.py", DAG.format(folder=str(folder), tasks=TASKS))
    engine.parse()
    return Ledgers(folder)


@pytest.fixture
def triggerer_env(engine: Engine, live_server, orch_settings):
    return lambda **extra: triggerer_env_of(engine, live_server, orch_settings, **extra)


def alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def all_deferred(run: DagRun) -> bool:
    return TaskInstance.objects.filter(dag_run=run, state="deferred").count() == TASKS


def assert_every_task_resumed_once(engine: Engine, run: DagRun, ledgers: Ledgers) -> None:
    engine.run(run, timeout=600)
    assert set(engine.states(run).values()) == {"success"}
    resumes = Counter(ledgers.resumes())
    assert resumes == Counter({f"w{i:02d} 1": 1 for i in range(TASKS)})


@pytest.mark.postgres_only
def test_two_triggerers_never_run_one_trigger_twice(engine, ledgers, triggerer_env):
    # Each may hold 30 of the 50: both must take part.
    procs = [start_triggerer(triggerer_env(), "--capacity", "30") for _ in range(2)]
    try:
        run = engine.trigger("many_deferred")
        assert engine.scheduler().run_until(
            lambda _r: all_deferred(run) and len(ledgers.starts()) >= TASKS, timeout=600
        ), engine.describe([run.pk])
        ledgers.release()
        assert_every_task_resumed_once(engine, run, ledgers)
        assert all(p.poll() is None for p in procs), "a triggerer died"
    finally:
        for proc in procs:
            stop(proc)
    starts = ledgers.starts()
    assert Counter(key for key, _pid in starts) == Counter({f"w{i:02d}": 1 for i in range(TASKS)})
    assert len({pid for _key, pid in starts}) == 2, "both triggerers ran triggers"


def test_a_killed_triggerers_triggers_are_taken_over_and_every_task_resumes_once(
    engine, ledgers, triggerer_env
):
    env = triggerer_env(ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD="2")
    first = start_triggerer(env)
    second: subprocess.Popen | None = None
    try:
        run = engine.trigger("many_deferred")
        assert engine.scheduler().run_until(
            lambda _r: all_deferred(run) and len(ledgers.starts()) >= TASKS, timeout=600
        ), engine.describe([run.pk])
        [first_child] = {pid for _key, pid in ledgers.starts()}
        os.kill(first.pid, signal.SIGKILL)  # the triggerer only: its child must notice alone
        first.wait()
        second = start_triggerer(env)
        wait_until(
            lambda: len([k for k, pid in ledgers.starts() if pid != first_child]) >= TASKS,
            "the second triggerer runs every trigger",
            timeout=300,
        )
        wait_until(
            lambda: not alive(first_child), "the killed triggerer's trigger runner exited", 60
        )
        ledgers.release()
        assert_every_task_resumed_once(engine, run, ledgers)
        assert second.poll() is None, "the second triggerer died"
    finally:
        stop(first)
        if second is not None:
            stop(second)
    starts = Counter(key for key, _pid in ledgers.starts())
    assert starts == Counter({f"w{i:02d}": 2 for i in range(TASKS)})  # once each triggerer
