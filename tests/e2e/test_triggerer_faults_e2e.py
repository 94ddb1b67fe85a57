"""Several triggerers, and one killed: every deferred task resumes (or ends) exactly once.

Real `manage.py triggerer` processes share the triggers by lease. Each trigger appends a line
to a ledger when it starts running (with its process id) and waits for a release file; each
resumed task appends its key to another ledger, and a trigger that ends its task
(end_from_trigger) pushes the id of the process that ended it as an XCom. Two triggerers racing
on PostgreSQL never start one trigger twice; a triggerer killed with SIGKILL with 1,000 tasks
deferred on it has all its triggers taken over by another once its heartbeat is older than
ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD, and every task resumes or ends once.

Why the 1,000 are deferred through the deferral action, and only 50 through runners: a task
reaches `deferred` by running in a worker first, and each runner costs about a quarter of a
second on a busy 2-core machine (1,000 of them took over 8 minutes there, the fault itself a few
seconds), so the 1,000 tasks — whose triggers end them (end_from_trigger) — are started and
deferred by `do_start_try` / `do_defer_try`, the actions the Execution API calls for a runner;
what happens from there on (two real triggerers, the kill, the takeover, the ends) is the fault
under test. The 50 others go through real runners both ways: deferred by their task, resumed
in a new runner after the takeover."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from dagruns.actions.deferral import do_defer_try
from dagruns.actions.tries import do_start_try
from dagruns.models import AuditEvent, DagRun, TaskInstance, XCom
from tests.builders import make_run, queue
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import triggerer_env as triggerer_env_of
from tests.polling import wait_until
from tests.processes import start_triggerer, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TASKS = 50  # resumed in a worker
ENDED = 1000  # ended by their trigger
LEDGER_TRIGGERS = """
import asyncio, os
from airflow.triggers.base import TaskSuccessEvent
from dagruns.sdk import BaseTrigger, TriggerEvent


class LedgerTrigger(BaseTrigger):
    def __init__(self, ledger, release, key, end=False):
        super().__init__()
        self.ledger, self.release, self.key, self.end = ledger, release, key, end

    def serialize(self):
        return ("ledger_triggers.LedgerTrigger", {"ledger": self.ledger,
                "release": self.release, "key": self.key, "end": self.end})

    async def run(self):
        with open(self.ledger, "a") as ledger:
            ledger.write(f"{self.key} {os.getpid()}\\n")
        while not os.path.exists(self.release):
            await asyncio.sleep(0.1)
        if self.end:
            yield TaskSuccessEvent(xcoms={"ended_by": os.getpid()})
        else:
            yield TriggerEvent(self.key)
"""
# Mapped: each runner imports a small file, however many instances there are.
DAG = """
from airflow.sdk import BaseOperator
from ledger_triggers import LedgerTrigger

FOLDER = {folder!r}


class Waits(BaseOperator):
    def __init__(self, key, **kwargs):
        super().__init__(**kwargs)
        self.key = key

    def execute(self, context):
        self.defer(
            trigger=LedgerTrigger(FOLDER + "/started", FOLDER + "/release", self.key),
            method_name="resume",
        )

    def resume(self, context, event=None):
        with open(FOLDER + "/resumed", "a") as ledger:
            ledger.write(f"{{event}} {{context['ti'].try_number}}\\n")


with DAG("many_deferred", schedule=None, start_date=START, max_active_tasks=1000):
    Waits.partial(task_id="w").expand(key=[f"w{{i:02d}}" for i in range({tasks})])
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


def all_deferred(*runs: DagRun, count: int = TASKS) -> bool:
    return TaskInstance.objects.filter(dag_run__in=runs, state="deferred").count() == count


def assert_every_task_resumed_once(engine: Engine, run: DagRun, ledgers: Ledgers) -> None:
    engine.run(run, timeout=600)
    assert set(engine.states(run).values()) == {"success"}
    resumes = Counter(ledgers.resumes())
    assert resumes == Counter({f"w{i:02d} 1": 1 for i in range(TASKS)})


def deferred_by_the_actions(ledgers: Ledgers) -> DagRun:
    """ENDED tasks started and deferred on ledger triggers that end them, by the actions the
    Execution API calls for a runner (see the module docstring)."""
    run = make_run("many_ended", edges={f"e{i:04d}": [] for i in range(ENDED)})
    for ti in TaskInstance.objects.filter(dag_run=run):
        do_start_try(queue(ti).id, 1)
        do_defer_try(
            ti.id,
            1,
            classpath="ledger_triggers.LedgerTrigger",
            trigger_kwargs={
                "ledger": str(ledgers.started),
                "release": str(ledgers.folder / "release"),
                "key": ti.task_id,
                "end": True,
            },  # fmt: skip
            next_method="resume",
            next_kwargs={},
        )
    return run


def assert_every_task_ended_once_by(engine: Engine, run: DagRun, child: int) -> None:
    """Every instance ended success by `child`'s trigger at its first try, never resumed."""
    engine.run(run, timeout=600)
    states = TaskInstance.objects.filter(dag_run=run).values_list("state", "try_number")
    assert Counter(states) == Counter({("success", 1): ENDED})
    ended_by = [x.value for x in XCom.objects.filter(dag_run=run, key="ended_by")]
    assert Counter(ended_by) == Counter({child: ENDED})
    moves = AuditEvent.objects.filter(dag_id=run.dag_id, run_id=run.run_id).values_list("event")
    # Started once, deferred once, ended once: none resumed, none ended twice.
    assert Counter(m for (m,) in moves) == Counter(
        {"running": ENDED, "deferred": ENDED, "success": ENDED}
    )


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


def test_a_triggerer_killed_with_1000_deferred_tasks_has_them_taken_over_and_each_ends_once(
    engine, ledgers, triggerer_env
):
    total = TASKS + ENDED
    env = triggerer_env(ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD="2")
    first = start_triggerer(env, "--capacity", str(total))
    second: subprocess.Popen | None = None
    try:
        resumed, ended = engine.trigger("many_deferred"), deferred_by_the_actions(ledgers)
        assert engine.scheduler().run_until(
            lambda _r: all_deferred(resumed, ended, count=total) and len(ledgers.starts()) >= total,
            timeout=600,
        ), engine.describe([resumed.pk, ended.pk])
        [first_child] = {pid for _key, pid in ledgers.starts()}
        os.kill(first.pid, signal.SIGKILL)  # the triggerer only: its child must notice alone
        first.wait()
        second = start_triggerer(env, "--capacity", str(total))
        wait_until(
            lambda: len([k for k, pid in ledgers.starts() if pid != first_child]) >= total,
            "the second triggerer runs every trigger",
            timeout=300,
        )
        wait_until(
            lambda: not alive(first_child), "the killed triggerer's trigger runner exited", 60
        )
        [second_child] = {pid for _key, pid in ledgers.starts() if pid != first_child}
        ledgers.release()
        assert_every_task_resumed_once(engine, resumed, ledgers)
        assert_every_task_ended_once_by(engine, ended, second_child)
        assert second.poll() is None, "the second triggerer died"
    finally:
        stop(first)
        if second is not None:
            stop(second)
    starts = Counter(key for key, _pid in ledgers.starts())
    keys = [f"w{i:02d}" for i in range(TASKS)] + [f"e{i:04d}" for i in range(ENDED)]
    assert starts == Counter({key: 2 for key in keys})  # once in each triggerer
