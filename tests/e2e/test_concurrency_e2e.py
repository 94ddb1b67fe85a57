"""Pools, priorities, max_active_tasks and max_active_runs, observed on real runs."""

from __future__ import annotations

import pytest

from dagruns.models import DagRun, Pool, TaskInstance

pytestmark = pytest.mark.django_db(transaction=True)


def max_overlap(intervals) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def test_a_one_slot_pool_runs_tasks_one_at_a_time_highest_priority_first(engine):
    Pool.objects.create(name="single", slots=1)
    engine.add(
        "prio.py",
        """
        with DAG("prio", schedule=None, start_date=START, max_active_tasks=16) as dag:
            for name, weight in [("low", 1), ("high", 30), ("mid", 10), ("top", 99)]:
                BashOperator(task_id=name, bash_command="sleep 0.2", pool="single",
                             priority_weight=weight, weight_rule="absolute")
        """,
    )
    engine.parse()
    run = engine.run_dag("prio")
    tis = list(TaskInstance.objects.filter(dag_run=run).order_by("start_date"))
    assert [ti.task_id for ti in tis] == ["top", "high", "mid", "low"]
    assert max_overlap([(ti.start_date, ti.end_date) for ti in tis]) == 1


def test_max_active_tasks_caps_how_many_run_at_once(engine):
    engine.add(
        "capped.py",
        """
        with DAG("capped", schedule=None, start_date=START, max_active_tasks=2) as dag:
            for i in range(6):
                BashOperator(task_id=f"t{i}", bash_command="sleep 0.3")
        """,
    )
    engine.parse()
    run = engine.run_dag("capped")
    tis = TaskInstance.objects.filter(dag_run=run)
    assert {ti.state for ti in tis} == {"success"}
    assert max_overlap([(ti.start_date, ti.end_date) for ti in tis]) == 2


def test_max_active_runs_runs_one_run_at_a_time(engine):
    engine.add(
        "one_run.py",
        """
        with DAG("one_run", schedule=None, start_date=START, max_active_runs=1) as dag:
            BashOperator(task_id="t", bash_command="sleep 0.3")
        """,
    )
    engine.parse()
    runs = [engine.trigger("one_run", run_id=f"r{i}") for i in range(3)]
    engine.run(*runs)
    runs = list(DagRun.objects.filter(dag_id="one_run"))
    assert {r.state for r in runs} == {"success"}
    assert max_overlap([(r.start_date, r.end_date) for r in runs]) == 1
