""" "Why is it waiting" names a task's own concurrency limit (max_active_tis_per_dag /
_per_dagrun) when the scheduler's queueing holds the task back because of it."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.waiting import why_waiting
from dagruns.models import TaskInstance
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def _held_back(task_id: str) -> TaskInstance:
    return TaskInstance.objects.get(task_id=task_id, state="scheduled")


def test_a_task_held_back_by_max_active_tis_per_dag_is_told_so():
    with DAG("why_per_dag", schedule=None, start_date=START, max_active_runs=2) as dag:
        PythonOperator(task_id="capped", python_callable=noop, max_active_tis_per_dag=1)
    store(dag)
    for i in range(2):
        do_trigger_dag("why_per_dag", Actor(name="test"), run_id=f"r{i}")
    Scheduler(executor=RecordingExecutor()).run_once()
    (reason,) = [r for r in why_waiting(_held_back("capped")) if r.name == "Task Concurrency"]
    assert reason.code == "max_active_tis_per_dag=1"
    assert "1 instances of this task are queued or running across all runs" in reason.reason


def test_a_second_instance_in_a_run_held_back_by_max_active_tis_per_dagrun_is_told_so():
    with DAG("why_per_run", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop, max_active_tis_per_dagrun=1)
    store(dag)
    run = do_trigger_dag("why_per_run", Actor(name="test"), run_id="r")
    Scheduler(executor=RecordingExecutor()).run_once()
    queued = TaskInstance.objects.get(dag_run=run, task_id="t", state="queued")
    # A second instance of the task in the same run (as a mapped task has), still scheduled.
    second = TaskInstance.objects.create(
        dag_run=run,
        dag_id=run.dag_id,
        run_id=run.run_id,
        task_id="t",
        map_index=1,
        state="scheduled",
        dag_version=queued.dag_version,
    )
    names = {r.name: r for r in why_waiting(second)}
    assert names["Task Concurrency"].code == "max_active_tis_per_dagrun=1"
    Scheduler(executor=RecordingExecutor()).run_once()
    second.refresh_from_db()
    assert second.state == "scheduled"  # the scheduler agrees: it holds it back too


def test_no_concurrency_reason_while_under_the_limit():
    with DAG("why_under", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop, max_active_tis_per_dag=5)
    store(dag)
    do_trigger_dag("why_under", Actor(name="test"), run_id="r")
    Scheduler(executor=RecordingExecutor(parallelism=0)).run_once()
    ti = TaskInstance.objects.get(task_id="t")
    assert ti.state == "scheduled"
    assert "Task Concurrency" not in {r.name for r in why_waiting(ti)}
