"""The queueing step with several executors (scheduler/scheduling/queueing.py over the routing
executor): each try goes to its task's executor or the default, `TaskInstance.executor` records
which, each executor's own open slots bound its own tasks only, and a task naming an executor
that is not configured waits in `scheduled` with one error line."""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import TaskInstance
from dagruns.sdk import DAG, PythonOperator
from scheduler.executors.multi import MultiExecutor
from scheduler.scheduling.loop import Scheduler
from scheduler.scheduling.queueing import queue_ready_tasks
from tests.builders import START, RecordingExecutor, noop, store

pytestmark = pytest.mark.django_db


def py(task_id: str, **kw) -> PythonOperator:
    return PythonOperator(task_id=task_id, python_callable=noop, **kw)


def router(local_slots: int = 32, celery_slots: int = 32):
    local = RecordingExecutor(local_slots, name="local")
    celery = RecordingExecutor(celery_slots, name="celery")
    return MultiExecutor({"local": local, "celery": celery}), local, celery


def rows(dag_id: str) -> dict[str, tuple]:
    return {
        task_id: (state, executor)
        for task_id, state, executor in TaskInstance.objects.filter(dag_id=dag_id).values_list(
            "task_id", "state", "executor"
        )
    }


def trigger(dag_id: str) -> None:
    do_trigger_dag(dag_id, Actor(name="test"))


def test_each_try_goes_to_its_tasks_executor_and_the_row_records_it():
    with DAG("routed", schedule=None, start_date=START, default_args={"retries": 0}) as dag:
        py("plain")
        py("remote", executor="celery")
        py("pinned_local", executor="local")
    store(dag)
    trigger("routed")
    multi, local, celery = router()
    Scheduler(executor=multi).run_once()
    assert sorted(local.queued_task_ids()) == ["pinned_local", "plain"]
    assert celery.queued_task_ids() == ["remote"]
    assert rows("routed") == {
        "plain": ("queued", "local"),
        "remote": ("queued", "celery"),
        "pinned_local": ("queued", "local"),
    }


def test_the_default_is_the_first_configured_executor():
    with DAG("defaulted", schedule=None, start_date=START) as dag:
        py("plain")
    store(dag)
    trigger("defaulted")
    celery = RecordingExecutor(name="celery")
    multi = MultiExecutor({"celery": celery, "local": RecordingExecutor(name="local")})
    Scheduler(executor=multi).run_once()
    assert celery.queued_task_ids() == ["plain"]
    assert rows("defaulted") == {"plain": ("queued", "celery")}


def test_a_full_executor_starves_only_its_own_tasks():
    """Local has one slot and its tasks come first by priority: the celery tasks behind them
    are still queued in the same tick, up to celery's own slots."""
    with DAG("slots", schedule=None, start_date=START, max_active_tasks=100) as dag:
        for i in range(3):
            py(f"local_{i}", priority_weight=10)
        for i in range(3):
            py(f"celery_{i}", executor="celery")
    store(dag)
    trigger("slots")
    multi, local, celery = router(local_slots=1, celery_slots=2)
    Scheduler(executor=multi).run_once()
    assert len(local.workloads) == 1
    assert len(celery.workloads) == 2
    states = rows("slots")
    assert sum(state == "queued" for state, _ in states.values()) == 3
    assert sum(state == "scheduled" for state, _ in states.values()) == 3

    # A local runner ends: the next tick fills that slot only; celery is still full.
    local.running.clear()
    Scheduler(executor=multi).run_once()
    assert len(local.workloads) == 2 and len(celery.workloads) == 2


def test_a_window_full_of_a_full_executors_tasks_does_not_hide_the_others():
    """Five high-priority local tasks fill the first window of three candidates while local
    has one slot: the celery tasks behind them are found in the next window (Airflow's
    starved-task loop)."""
    with DAG("windows", schedule=None, start_date=START, max_active_tasks=100) as dag:
        for i in range(5):
            py(f"local_{i}", priority_weight=10)
        for i in range(2):
            py(f"celery_{i}", executor="celery")
    store(dag)
    trigger("windows")
    Scheduler(executor=RecordingExecutor(0)).run_once()  # no slots: the tasks get scheduled
    multi, local, celery = router(local_slots=1, celery_slots=5)
    assert queue_ready_tasks(multi, timezone.now(), max_tis=3) == 3
    assert len(local.workloads) == 1
    assert sorted(celery.queued_task_ids()) == ["celery_0", "celery_1"]


def test_adopted_runners_take_the_local_executors_slots_not_the_others():
    with DAG("adopting", schedule=None, start_date=START) as dag:
        py("here")
        py("there", executor="celery")
    store(dag)
    trigger("adopting")
    Scheduler(executor=RecordingExecutor(0)).run_once()  # no slots: the tasks get scheduled
    multi, local, celery = router(local_slots=1, celery_slots=1)
    assert queue_ready_tasks(multi, timezone.now(), adopted=1) == 1
    assert local.workloads == [] and celery.queued_task_ids() == ["there"]


def test_a_task_naming_an_unconfigured_executor_waits_with_one_error_line(caplog):
    """Only a DAG version stored before ORCH_EXECUTOR changed can name one (the processor
    refuses such files); as in Airflow it stays scheduled and runs once configured again."""
    with DAG("stale", schedule=None, start_date=START) as dag:
        py("fine")
        py("orphan", executor="celery")
    store(dag)
    trigger("stale")
    local = RecordingExecutor(name="local")  # ORCH_EXECUTOR=local: one executor, no router
    with caplog.at_level(logging.ERROR, logger="scheduler.scheduling.queueing"):
        Scheduler(executor=local).run_once()
        Scheduler(executor=local).run_once()
    assert local.queued_task_ids() == ["fine"]
    assert rows("stale")["orphan"] == ("scheduled", "")
    errors = [r.getMessage() for r in caplog.records if "orphan" in r.getMessage()]
    assert errors == [
        "Task 'orphan' of DAG 'stale' asks for executor 'celery', which is not configured "
        "(ORCH_EXECUTOR=local); its task instances stay scheduled until it is"
    ]

    multi, _local, celery = router()  # the scheduler restarted with ORCH_EXECUTOR=local,celery
    Scheduler(executor=multi).run_once()
    assert celery.queued_task_ids() == ["orphan"]
    assert rows("stale")["orphan"] == ("queued", "celery")
