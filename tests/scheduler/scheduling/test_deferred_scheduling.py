"""The scheduler and deferred tasks: a deferred task frees its worker slot, and keeps its pool
slot only in a pool with include_deferred (Airflow's rule); the retry of a try that deferred
starts afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import Pool, TaskInstance
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def pooled_run(include_deferred: bool):
    Pool.objects.create(name="one", slots=1, include_deferred=include_deferred)
    with DAG("pooled", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="a", python_callable=noop, pool="one")
        PythonOperator(task_id="b", python_callable=noop, pool="one")
    store(dag)
    run = do_trigger_dag("pooled", Actor(name="test"))
    executor = RecordingExecutor(parallelism=1)
    scheduler = Scheduler(executor=executor)
    scheduler.run_once()
    [first] = TaskInstance.objects.filter(dag_run=run, state="queued")
    # It ran and deferred: its runner ended, its worker slot is free.
    TaskInstance.objects.filter(pk=first.pk).update(state="deferred")
    executor.workloads.clear()
    executor.running.clear()
    scheduler.run_once()
    return executor


def test_a_deferred_task_frees_its_worker_and_pool_slot():
    assert len(pooled_run(include_deferred=False).workloads) == 1


def test_a_pool_with_include_deferred_counts_deferred_tasks():
    assert pooled_run(include_deferred=True).workloads == []


def test_the_retry_of_a_try_that_failed_after_deferring_starts_at_execute():
    with DAG("retried", schedule=None, start_date=START) as dag:
        PythonOperator(task_id="a", python_callable=noop, retries=1)
    store(dag)
    run = do_trigger_dag("retried", Actor(name="test"))
    # Try 1 deferred, its trigger failed, it resumed into failure and has a retry left.
    TaskInstance.objects.filter(dag_run=run).update(
        state="up_for_retry",
        try_number=1,
        next_retry_at=timezone.now() - timedelta(seconds=1),
        next_method="__fail__",
        next_kwargs={"error": "Trigger failure"},
    )
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    ti = TaskInstance.objects.get(dag_run=run)
    assert (ti.state, ti.try_number) == ("queued", 2)
    assert (ti.next_method, ti.next_kwargs) == (None, None)
