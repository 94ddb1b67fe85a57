"""Putting SDK DAGs straight into the database for scheduler tests (no processor needed)."""

from __future__ import annotations

from datetime import datetime

from dagruns.models import DagModel, DagVersion
from dagruns.sdk.serialization import dag_structure_hash, serialize_dag

START = datetime(2024, 1, 1)


def store(dag, *, paused: bool = False, fileloc: str = "/dags/test.py") -> DagModel:
    data = serialize_dag(dag)
    model, _ = DagModel.objects.update_or_create(
        dag_id=dag.dag_id,
        defaults={
            "fileloc": fileloc,
            "is_paused": paused,
            "max_active_tasks": data["max_active_tasks"],
            "max_active_runs": data["max_active_runs"],
        },
    )
    latest = model.latest_version()
    DagVersion.objects.create(
        dag=model,
        version_number=(latest.version_number + 1) if latest else 1,
        serialized=data,
        structure_hash=dag_structure_hash(data),
        fileloc=fileloc,
    )
    return model


class RecordingExecutor:
    """The executor contract's fake (as Airflow's MockExecutor): records what it was given and
    lets the test decide when runners end. Used only for tick-level scheduler tests; the
    semantics suite runs the real local executor."""

    name = "recording"

    def __init__(self, parallelism: int = 32) -> None:
        self.parallelism = parallelism
        self.workloads: list[dict] = []
        self.running: dict[str, int] = {}
        self.ended: list = []
        self.terminated: list[str] = []

    def start(self):
        pass

    def queue(self, workload):
        self.workloads.append(workload)
        self.running[workload["ti_id"]] = workload["try_number"]

    def sync(self):
        ended, self.ended = self.ended, []
        for event in ended:
            self.running.pop(event.ti_id, None)
        return ended

    def terminate(self, ti_id):
        if ti_id in self.running and ti_id not in self.terminated:
            self.terminated.append(ti_id)
            return True
        return False

    def running_tries(self):
        return dict(self.running)

    @property
    def running_count(self):
        return len(self.running)

    @property
    def open_slots(self):
        return max(0, self.parallelism - self.running_count)

    def wait_handles(self):
        return []

    def end(self):
        pass

    def queued_task_ids(self) -> list[str]:
        return [w["task_id"] for w in self.workloads]


def noop() -> None:
    return None


def queue_one_try(dag_id: str, executor: RecordingExecutor | None = None):
    """A one-task DAG (retries=1) triggered once and ticked once: its only task instance is
    queued at try 1 and handed to `executor`. Returns that task instance."""
    from dagruns.actions.audit import Actor
    from dagruns.actions.runs import do_trigger_dag
    from dagruns.models import TaskInstance
    from dagruns.sdk import DAG, PythonOperator
    from scheduler.scheduling.loop import Scheduler

    with DAG(dag_id, schedule=None, start_date=START) as dag:
        PythonOperator(task_id="t", python_callable=noop, retries=1)
    store(dag)
    do_trigger_dag(dag_id, Actor(name="test"))
    Scheduler(executor=executor or RecordingExecutor()).run_once()
    ti = TaskInstance.objects.get(dag_id=dag_id)
    assert (ti.state, ti.try_number) == ("queued", 1)
    return ti
