"""Three schedulers at once, under load, never exceed an "at most N" limit: max_active_runs,
max_active_tasks, a task's max_active_tis_per_dag and a pool's slots. Each scheduler is a thread with its own database
connection; a fourth thread plays the task runners (queued → running → success) and a fifth
samples the database continuously, keeping the highest count it ever saw."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagRun, Pool, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED, TI_OCCUPYING_SLOT
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db(transaction=True)

MAX_ACTIVE_RUNS = 3
MAX_ACTIVE_TASKS = 4
MAX_ACTIVE_TIS_PER_DAG = 2  # of the task "capped", across all runs of its DAG
POOL_SLOTS = 5
RUNS_PER_DAG = 12


def noop():
    return None


class HandOffExecutor(RecordingExecutor):
    """Records workloads and forgets them: the runner thread below plays the runners."""

    def queue(self, workload):
        self.workloads.append(workload)


class Peaks:
    """The highest counts seen by the sampler, per limit."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = defaultdict(int)
        self.tasks: dict[str, int] = defaultdict(int)
        self.pool = 0
        self.capped: dict[str, int] = defaultdict(int)
        self.samples = 0

    def sample(self) -> None:
        running = (
            DagRun.objects.filter(state="running").values_list("dag_id").annotate(n=Count("id"))
        )
        for dag_id, n in running:
            self.runs[dag_id] = max(self.runs[dag_id], n)
        occupying = TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT)
        for dag_id, n in occupying.values_list("dag_id").annotate(n=Count("id")):
            self.tasks[dag_id] = max(self.tasks[dag_id], n)
        capped = occupying.filter(task_id="capped").values_list("dag_id").annotate(n=Count("id"))
        for dag_id, n in capped:
            self.capped[dag_id] = max(self.capped[dag_id], n)
        used = occupying.filter(pool="limited").aggregate(s=Sum("pool_slots"))["s"] or 0
        self.pool = max(self.pool, used)
        self.samples += 1


def build() -> list[int]:
    Pool.objects.create(name="limited", slots=POOL_SLOTS)
    for name in ("alpha", "beta"):
        with DAG(
            name,
            schedule=None,
            start_date=START,
            max_active_runs=MAX_ACTIVE_RUNS,
            max_active_tasks=MAX_ACTIVE_TASKS,
        ) as dag:
            for i in range(2):
                PythonOperator(task_id=f"free{i}", python_callable=noop)
            PythonOperator(
                task_id="capped",
                python_callable=noop,
                max_active_tis_per_dag=MAX_ACTIVE_TIS_PER_DAG,
            )
            for i in range(3):
                PythonOperator(
                    task_id=f"pooled{i}", python_callable=noop, pool="limited", pool_slots=1 + i % 2
                )
        store(dag)
    return [
        do_trigger_dag(name, Actor(name="test"), run_id=f"{name}-{i:02d}").pk
        for name in ("alpha", "beta")
        for i in range(RUNS_PER_DAG)
    ]


def all_finished(pks: list[int]) -> bool:
    return DagRun.objects.filter(pk__in=pks).exclude(state__in=DAGRUN_FINISHED).count() == 0


def test_three_schedulers_under_load_never_exceed_any_at_most_n_limit():
    pks = build()
    peaks = Peaks()
    done = threading.Event()
    errors: list[BaseException] = []

    def in_thread(body):
        def target():
            try:
                body()
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)
                done.set()
            finally:
                connection.close()

        return threading.Thread(target=target)

    def schedule():
        scheduler = Scheduler(executor=HandOffExecutor(parallelism=10_000))
        while not done.is_set():
            scheduler.run_once()

    def run_tasks():
        # A task occupies its slot from `queued` through `running` until it ends.
        while not done.is_set():
            now = timezone.now()
            TaskInstance.objects.filter(state="running").update(state="success", end_date=now)
            TaskInstance.objects.filter(state="queued").update(state="running", start_date=now)
            time.sleep(0.02)

    def sample():
        deadline = time.monotonic() + 300
        while not all_finished(pks):
            assert time.monotonic() < deadline, "runs did not finish within 300 s"
            peaks.sample()
        done.set()

    threads = [in_thread(schedule) for _ in range(3)] + [in_thread(run_tasks), in_thread(sample)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(360)
    assert not errors, errors
    assert set(DagRun.objects.filter(pk__in=pks).values_list("state", flat=True)) == {"success"}
    assert peaks.samples > 10
    assert max(peaks.runs.values()) <= MAX_ACTIVE_RUNS, peaks.runs
    assert max(peaks.tasks.values()) <= MAX_ACTIVE_TASKS, peaks.tasks
    assert peaks.pool <= POOL_SLOTS, peaks.pool
    assert max(peaks.capped.values()) <= MAX_ACTIVE_TIS_PER_DAG, peaks.capped
