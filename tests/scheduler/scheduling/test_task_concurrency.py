"""A task's own concurrency limits (Airflow's max_active_tis_per_dag / _per_dagrun) hold at
queueing, like max_active_tasks and pools; and a paused DAG's scheduled tasks wait."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagModel, TaskInstance
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def queued(task_id: str) -> int:
    return TaskInstance.objects.filter(task_id=task_id, state__in=["queued", "running"]).count()


def test_max_active_tis_per_dag_caps_one_task_across_runs():
    with DAG("capped_task", schedule=None, start_date=START, max_active_runs=5) as dag:
        PythonOperator(task_id="capped", python_callable=noop, max_active_tis_per_dag=2)
        PythonOperator(task_id="free", python_callable=noop)
    store(dag)
    for i in range(5):
        do_trigger_dag("capped_task", Actor(name="test"), run_id=f"r{i}")
    scheduler = Scheduler(executor=RecordingExecutor())
    for _ in range(3):
        scheduler.run_once()
    assert queued("capped") == 2
    assert queued("free") == 5
    # One capped try ends: exactly one more may start.
    TaskInstance.objects.filter(
        pk=TaskInstance.objects.filter(task_id="capped", state="queued").values_list(
            "pk", flat=True
        )[:1][0]
    ).update(state="success")
    scheduler.run_once()
    assert queued("capped") == 2
    assert TaskInstance.objects.filter(task_id="capped", state="success").count() == 1


def test_max_active_tis_per_dagrun_holds_within_a_run():
    with DAG("per_run", schedule=None, start_date=START, max_active_runs=3) as dag:
        PythonOperator(task_id="t", python_callable=noop, max_active_tis_per_dagrun=1)
    store(dag)
    for i in range(3):
        do_trigger_dag("per_run", Actor(name="test"), run_id=f"r{i}")
    Scheduler(executor=RecordingExecutor()).run_once()
    assert queued("t") == 3  # one per run: each run is within its own limit


def test_a_paused_dags_scheduled_tasks_are_not_queued_until_it_is_unpaused():
    with DAG("pausing", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop)
    store(dag)
    do_trigger_dag("pausing", Actor(name="test"))
    scheduler = Scheduler(executor=RecordingExecutor(parallelism=0))  # no slot: stays scheduled
    scheduler.run_once()
    assert TaskInstance.objects.get(task_id="t").state == "scheduled"
    DagModel.objects.filter(dag_id="pausing").update(is_paused=True)
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert TaskInstance.objects.get(task_id="t").state == "scheduled"
    assert executor.workloads == []
    # `dags test` schedules its own DAG, paused or not.
    Scheduler(executor=executor, dag_ids=["pausing"]).run_once()
    assert TaskInstance.objects.get(task_id="t").state == "queued"
