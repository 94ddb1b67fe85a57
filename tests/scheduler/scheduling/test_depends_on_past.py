"""depends_on_past and wait_for_downstream, as Airflow's PrevDagrunDep decides them: the
previous run's instance of the task (and, with wait_for_downstream, of its immediate downstream
tasks) must have succeeded or been skipped before this run's instance is scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.models import TaskInstance
from dagruns.sdk import DAG, EmptyOperator, PythonOperator
from scheduler.scheduling.examine import examine_run
from tests.builders import START, T0, add_run, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def _dag(dag_id: str, **first_kwargs):
    """first >> second >> third; `first` carries the depends_on_past arguments."""
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        first = PythonOperator(task_id="first", python_callable=noop, **first_kwargs)
        second = PythonOperator(task_id="second", python_callable=noop)
        third = PythonOperator(task_id="third", python_callable=noop)
        first >> second >> third
    return store(dag)


def _first_state_after_examining(model, previous_states: dict[str, str | None] | None):
    if previous_states is not None:
        add_run(model, "previous", states=previous_states, when=T0, state="success")
    run = add_run(model, "current", when=T0 + timedelta(days=1))
    examine_run(run, timezone.now())
    return TaskInstance.objects.get(dag_run=run, task_id="first").state


def test_wait_for_downstream_waits_for_the_previous_runs_immediate_downstream():
    model = _dag("wfd_waits", wait_for_downstream=True)
    state = _first_state_after_examining(
        model, {"first": "success", "second": "running", "third": None}
    )
    assert state is None  # not scheduled: `second` of the previous run is not done yet


def test_wait_for_downstream_is_met_when_first_and_its_downstream_succeeded_or_skipped():
    model = _dag("wfd_met", wait_for_downstream=True)
    # `third` is not immediately downstream of `first`: Airflow does not wait for it.
    state = _first_state_after_examining(
        model, {"first": "success", "second": "skipped", "third": "failed"}
    )
    assert state == "scheduled"


def test_wait_for_downstream_is_not_met_when_a_downstream_task_failed():
    model = _dag("wfd_failed", wait_for_downstream=True)
    state = _first_state_after_examining(
        model, {"first": "success", "second": "failed", "third": "upstream_failed"}
    )
    assert state is None


def test_without_wait_for_downstream_only_the_task_itself_counts():
    model = _dag("dop_only", depends_on_past=True)
    state = _first_state_after_examining(
        model, {"first": "success", "second": "failed", "third": "upstream_failed"}
    )
    assert state == "scheduled"


def test_depends_on_past_waits_while_the_previous_instance_is_unfinished_or_failed():
    for label, previous in (("running", "running"), ("failed", "failed"), ("none", None)):
        model = _dag(f"dop_{label}", depends_on_past=True)
        assert _first_state_after_examining(model, {"first": previous}) is None, label


def test_the_first_run_has_no_past_to_wait_for():
    model = _dag("dop_first", wait_for_downstream=True)
    assert _first_state_after_examining(model, None) == "scheduled"


def _dag_with_new_task(dag_id: str, ignore_first: bool):
    """A previous run of a version without `added`; the current version has it."""
    with DAG(dag_id, schedule=None, start_date=START) as old:
        EmptyOperator(task_id="kept")
    old_model = store(old)
    add_run(old_model, "previous", states={"kept": "success"}, when=T0, state="success")
    with DAG(dag_id, schedule=None, start_date=START) as new:
        EmptyOperator(task_id="kept")
        PythonOperator(
            task_id="added",
            python_callable=noop,
            depends_on_past=True,
            ignore_first_depends_on_past=ignore_first,
        )
    model = store(new)
    run = add_run(model, "current", when=T0 + timedelta(days=1))
    examine_run(run, timezone.now())
    return TaskInstance.objects.get(dag_run=run, task_id="added").state


def test_a_task_new_since_the_previous_run_starts_with_ignore_first_depends_on_past():
    assert _dag_with_new_task("new_task_ignored", ignore_first=True) == "scheduled"


def test_a_task_new_since_the_previous_run_waits_without_ignore_first_depends_on_past():
    # Airflow: "depends_on_past is true for this task's DAG, but the previous task instance
    # has not run yet."
    assert _dag_with_new_task("new_task_waits", ignore_first=False) is None


def test_wait_for_downstream_implies_depends_on_past():
    with DAG("implies", schedule=None, start_date=START):
        task = PythonOperator(task_id="t", python_callable=noop, wait_for_downstream=True)
    assert task.depends_on_past is True


def test_why_waiting_names_the_previous_dagrun_state_with_airflows_reason():
    from dagruns.actions.waiting import why_waiting

    model = _dag("wfd_why", wait_for_downstream=True)
    _first_state_after_examining(model, {"first": "success", "second": "failed", "third": None})
    ti = TaskInstance.objects.get(dag_run__run_id="current", dag_id="wfd_why", task_id="first")
    (reason,) = [r for r in why_waiting(ti) if r.name == "Previous Dagrun State"]
    assert reason.reason == (
        "The tasks downstream of the previous task instance(s) haven't completed, and "
        "wait_for_downstream is True."
    )
