"""A paused DAG with a run in flight, through real runner processes: the running try finishes,
nothing new is queued and no new run starts until the DAG is unpaused (Airflow's behaviour)."""

from __future__ import annotations

import time

import pytest

from dagruns.models import DagModel, DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED

pytestmark = pytest.mark.django_db(transaction=True)


def tick_until(engine, condition, what: str, timeout: float = 60.0) -> None:
    """Drive the scheduler one tick at a time until `condition()` holds (a generous deadline,
    never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    scheduler = engine.scheduler()
    scheduler.executor.start()
    while not condition():
        assert time.monotonic() < deadline, (
            f"{what}: {engine.describe(list(DagRun.objects.values_list('pk', flat=True)))}"
        )
        scheduler.run_once()
        time.sleep(0.02)


def state(run: DagRun, task_id: str) -> str | None:
    return TaskInstance.objects.get(dag_run=run, task_id=task_id).state


def test_pausing_lets_the_running_try_finish_and_queues_nothing_until_unpaused(engine, tmp_path):
    release = tmp_path / "release"
    engine.add(
        "pausable.py",
        f"""
        with DAG("pausable", schedule=None, start_date=START, max_active_tasks=1,
                 max_active_runs=1) as dag:
            hold = BashOperator(task_id="hold",
                bash_command="while [ ! -e {release} ]; do sleep 0.05; done", priority_weight=9)
            waiting = BashOperator(task_id="waiting", bash_command="true")
            after = BashOperator(task_id="after", bash_command="true")
            hold >> after
        """,
    )
    engine.parse()
    first = engine.trigger("pausable")
    tick_until(engine, lambda: state(first, "hold") == "running", "hold starts")
    # max_active_tasks=1: `waiting` is scheduled but has no slot while `hold` runs.
    assert state(first, "waiting") == "scheduled"

    DagModel.objects.filter(dag_id="pausable").update(is_paused=True)
    second = engine.trigger("pausable")
    release.touch()
    tick_until(engine, lambda: state(first, "hold") == "success", "the running try finishes")

    # Its slot is free now, yet nothing of the paused DAG may be queued or started: the test
    # counts scheduler ticks (not seconds) and each tick had every chance to do so.
    for _ in range(30):
        engine.scheduler().run_once()
    assert state(first, "waiting") == "scheduled"
    assert state(first, "after") is None
    assert DagRun.objects.get(pk=second.pk).state == "queued"
    assert not TaskInstance.objects.filter(state__in=["queued", "running"]).exists()

    DagModel.objects.filter(dag_id="pausable").update(is_paused=False)
    engine.run(first, second)
    for run in (first, second):
        run.refresh_from_db()
        assert run.state == "success"
        assert set(engine.states(run).values()) == {"success"}
    assert DagRun.objects.exclude(state__in=DAGRUN_FINISHED).count() == 0
