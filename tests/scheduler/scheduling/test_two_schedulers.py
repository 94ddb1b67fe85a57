"""Two schedulers at once on PostgreSQL never queue a task instance twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import Pool, TaskInstance
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def noop():
    return None


def test_two_schedulers_racing_never_queue_a_task_instance_twice():
    with DAG("race", schedule=None, start_date=START, max_active_tasks=1000) as dag:
        for i in range(300):
            PythonOperator(task_id=f"t{i:03d}", python_callable=noop)
    store(dag)
    for i in range(3):
        do_trigger_dag("race", Actor(name="test"), run_id=f"r{i}")
    executors = [RecordingExecutor(parallelism=10_000), RecordingExecutor(parallelism=10_000)]
    race(executors)
    # default_pool has 128 slots: together they must not spend one more.
    assert sum(len(e.workloads) for e in executors) == 128
    Pool.objects.filter(name="default_pool").update(slots=5000)
    race(executors)
    queued = Counter(w.ti_id for e in executors for w in e.workloads)
    assert len(queued) == 900, "every task instance queued"
    assert max(queued.values()) == 1, "none queued twice"
    assert all(e.workloads for e in executors), "both schedulers did part of the work"
    assert TaskInstance.objects.filter(state="queued").count() == 900


def race(executors) -> None:
    barrier = threading.Barrier(len(executors))
    errors: list[BaseException] = []

    def schedule(executor):
        try:
            barrier.wait()
            scheduler = Scheduler(executor=executor)
            for _ in range(10):
                scheduler.run_once()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule, args=(e,)) for e in executors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
