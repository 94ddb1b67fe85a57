"""A DAG's fail_fast=True, as Airflow 3 applies it when a try fails for good: the run's other
running tries are failed, its other unfinished task instances skipped, teardowns left to run.
Without fail_fast, or when the failed try will be retried, nothing else changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.failures import fail_try_from_outside
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.tries import do_finish_try, do_start_try
from dagruns.models import TaskInstance, TaskInstanceHistory
from dagruns.sdk import DAG, EmptyOperator, PythonOperator
from tests.builders import START, queue, set_state, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def _run(dag_id: str, fail_fast: bool, retries: int = 0):
    with DAG(dag_id, schedule=None, start_date=START, fail_fast=fail_fast) as dag:
        PythonOperator(task_id="breaks", python_callable=noop, retries=retries)
        PythonOperator(task_id="busy", python_callable=noop)
        PythonOperator(task_id="waiting", python_callable=noop)
        PythonOperator(task_id="done", python_callable=noop)
        EmptyOperator(task_id="cleanup", is_teardown=True)
    store(dag)
    run = do_trigger_dag(dag_id, Actor(name="test"))
    tis = {ti.task_id: ti for ti in TaskInstance.objects.filter(dag_run=run)}
    for task_id in ("breaks", "busy"):
        queue(tis[task_id])
        do_start_try(tis[task_id].id, 1)
    set_state(tis["done"], "success")
    return run, tis


def _states(run) -> dict[str, str | None]:
    return dict(TaskInstance.objects.filter(dag_run=run).values_list("task_id", "state"))


def test_a_failure_stops_the_rest_of_a_fail_fast_run(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    run, tis = _run("fast", fail_fast=True)
    do_finish_try(tis["breaks"].id, 1, state="failed")
    assert _states(run) == {
        "breaks": "failed",
        "busy": "failed",  # was running: forced to fail
        "waiting": "skipped",
        "done": "success",  # finished tasks keep their state
        "cleanup": None,  # a teardown still runs
    }
    assert TaskInstanceHistory.objects.get(task_instance=tis["busy"]).state == "failed"
    log = next((orch_settings.log_dir).rglob("task_id=busy/attempt=1.log")).read_text()
    assert "Forcing task to fail due to dag's `fail_fast` setting: task breaks failed." in log


def test_a_failure_that_will_be_retried_stops_nothing(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    run, tis = _run("fast_retry", fail_fast=True, retries=1)
    do_finish_try(tis["breaks"].id, 1, state="failed")
    assert _states(run)["breaks"] == "up_for_retry"
    assert _states(run)["busy"] == "running" and _states(run)["waiting"] is None


def test_without_fail_fast_other_tasks_carry_on(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    run, tis = _run("slow", fail_fast=False)
    do_finish_try(tis["breaks"].id, 1, state="failed")
    assert _states(run)["busy"] == "running" and _states(run)["waiting"] is None


def test_a_zombie_failed_by_the_scheduler_stops_a_fail_fast_run_too(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    run, tis = _run("fast_zombie", fail_fast=True)
    ti = TaskInstance.objects.get(pk=tis["breaks"].pk)
    assert fail_try_from_outside(ti, "The runner vanished.", timezone.now()) == 1
    assert _states(run)["busy"] == "failed" and _states(run)["waiting"] == "skipped"
