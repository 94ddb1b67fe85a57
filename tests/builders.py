"""The one place tests build things: DAG files on disk, SDK DAGs stored as the processor would
store them, serialized DAGs, runs and task instances written straight to the database (so ids may
hold anything the database can: quotes, `<script>`, unicode — what the pages must survive), and
the executor contract's fake.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from dagruns.models import DagModel, DagRun, DagTag, DagVersion, TaskInstance
from dagruns.sdk.serialization import dag_structure_hash, serialize_dag
from scheduler.executors.base import BaseExecutor
from scheduler.runner.workload import Workload

START = datetime(2024, 1, 1)  # naive: what DAG files write
T0 = LOGICAL_DATE = datetime(2024, 1, 1, tzinfo=UTC)


# --- DAG files ---------------------------------------------------------------------------------
HEADER = "from datetime import datetime\nfrom dagruns.sdk import DAG, EmptyOperator\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def simple_dag(dag_id: str, tasks: int = 2, extra: str = "", tags: str = "[]") -> str:
    """A DAG file text: a chain of `tasks` EmptyOperators."""
    lines = [
        HEADER,
        f"with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1), "
        f"tags={tags}) as dag:",
        "    previous = None",
        f"    for i in range({tasks}):",
        "        current = EmptyOperator(task_id=f't{i}')",
        "        if previous is not None:",
        "            previous >> current",
        "        previous = current",
        extra,
    ]
    return "\n".join(lines) + "\n"


# --- SDK DAGs, stored as the processor stores them ----------------------------------------


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


# --- serialized DAGs, runs and task instances ----------------------------------------------


def serialized(
    dag_id: str,
    edges: dict[str, list[str]],
    *,
    groups: dict[str, list[str]] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    task_settings: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`edges`: task → downstream tasks (in topological order); `groups`: group → its tasks
    (one level)."""
    upstream: dict[str, list[str]] = {t: [] for t in edges}
    for task_id, downs in edges.items():
        for down in downs:
            upstream.setdefault(down, []).append(task_id)
    groups = groups or {}
    group_of = {t: g for g, members in groups.items() for t in members}
    tasks = []
    for task_id in upstream:
        task = {
            "task_id": task_id,
            "task_type": "BashOperator",
            "label": task_id.split(".")[-1] if task_id in group_of else task_id,
            "task_group_id": group_of.get(task_id),
            "ui_color": "#fff",
            "retries": 0,
            "retry_delay": 300.0,
            "retry_exponential_backoff": False,
            "max_retry_delay": None,
            "execution_timeout": None,
            "trigger_rule": "all_success",
            "pool": "default_pool",
            "template_fields": ["bash_command"],
            "template_values": {"bash_command": f"echo {task_id}"},
            "upstream_task_ids": sorted(upstream[task_id]),
            "downstream_task_ids": sorted(edges.get(task_id, [])),
        }
        task.update((task_settings or {}).get(task_id, {}))
        tasks.append(task)
    children: list[Any] = []
    placed: set[str] = set()
    for task_id in upstream:
        group = group_of.get(task_id)
        if group is None:
            children.append(task_id)
        elif group not in placed:
            placed.add(group)
            children.append(
                {
                    "group_id": group,
                    "label": group,
                    "tooltip": f"the {group} group",
                    "children": list(groups[group]),
                }
            )
    return {
        "dag_id": dag_id,
        "fileloc": f"/dags/{dag_id}.py",
        "tasks": tasks,
        "params": params or {},
        "task_group": {"group_id": None, "label": None, "children": children},
    }


def store_dag(
    dag_id: str,
    edges: dict[str, list[str]] | None = None,
    *,
    tags: list[str] = (),
    paused: bool = False,
    source: str = "from dagruns.sdk import DAG\n",
    **kwargs,
) -> DagModel:
    edges = (
        edges
        if edges is not None
        else {"extract": ["transform"], "transform": ["load"], "load": []}
    )
    data = serialized(dag_id, edges, **kwargs)
    dag, _ = DagModel.objects.update_or_create(
        dag_id=dag_id,
        defaults={
            "fileloc": f"/dags/{dag_id}.py",
            "is_paused": paused,
            "timetable_summary": "@daily",
            "timetable_description": "At 00:00",
        },
    )
    for tag in tags:
        DagTag.objects.get_or_create(dag=dag, name=tag)
    latest = dag.latest_version()
    DagVersion.objects.create(
        dag=dag,
        version_number=(latest.version_number + 1) if latest else 1,
        serialized=data,
        structure_hash=hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
        source_code=source,
        fileloc=f"/dags/{dag_id}.py",
    )
    return dag


def add_run(
    dag: DagModel,
    run_id: str | None = None,
    *,
    states: dict[str, str | None] | None = None,
    state: str = "running",
    when: datetime | None = None,
    run_type: str = "scheduled",
    conf: dict | None = None,
    try_number: int = 1,
) -> DagRun:
    """A run with one task instance per task of the latest version; `states` sets some."""
    version = dag.latest_version()
    when = when or T0 + timedelta(days=DagRun.objects.filter(dag=dag).count())
    run = DagRun.objects.create(
        dag=dag,
        run_id=run_id or f"{run_type}__{when.isoformat()}",
        run_type=run_type,
        state=state,
        logical_date=when,
        data_interval_start=when,
        data_interval_end=when,
        run_after=when,
        start_date=when,
        end_date=when + timedelta(minutes=5) if state in ("success", "failed") else None,
        queued_at=when,
        conf=conf or {},
        dag_version=version,
    )
    states = states or {}
    tis = []
    for i, task in enumerate(version.serialized["tasks"]):
        s = states.get(task["task_id"])
        started = when + timedelta(seconds=10 * i)
        tis.append(
            TaskInstance(
                dag_run=run,
                dag_version=version,
                dag_id=dag.dag_id,
                run_id=run.run_id,
                task_id=task["task_id"],
                state=s,
                try_number=try_number if s else 0,
                operator=task.get("task_type", ""),
                queued_dttm=started - timedelta(seconds=2) if s else None,
                start_date=started if s and s != "queued" else None,
                end_date=started + timedelta(seconds=8)
                if s in ("success", "failed", "skipped", "upstream_failed")
                else None,
                duration=8.0 if s in ("success", "failed") else None,
                cpu_time=1.25 if s in ("success", "failed") else None,
                peak_memory=40 * 2**20 if s in ("success", "failed") else None,
            )
        )
    TaskInstance.objects.bulk_create(tis)
    return run


def make_run(
    dag_id: str = "etl",
    edges: dict[str, list[str]] | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
    run_id: str = "scheduled__2024-01-01T00:00:00+00:00",
    logical_date: datetime | None = LOGICAL_DATE,
) -> DagRun:
    """A running DAG run with one task instance (state none, try 0) per task."""
    edges = edges if edges is not None else {"extract": ["load"], "load": []}
    dag, _ = DagModel.objects.get_or_create(
        dag_id=dag_id, defaults={"fileloc": f"/dags/{dag_id}.py"}
    )
    serialized_data = serialized(dag_id, edges, task_settings=settings)
    version = dag.versions.first() or DagVersion.objects.create(
        dag=dag,
        version_number=1,
        serialized=serialized_data,
        structure_hash="x" * 64,
        fileloc=f"/dags/{dag_id}.py",
    )
    run = DagRun.objects.create(
        dag=dag,
        run_id=run_id,
        run_type="scheduled",
        state="running",
        logical_date=logical_date,
        data_interval_start=logical_date,
        data_interval_end=logical_date,
        run_after=logical_date or LOGICAL_DATE,
        start_date=LOGICAL_DATE,
        conf={"source": "test"},
        dag_version=version,
    )
    for task in version.serialized["tasks"]:
        TaskInstance.objects.create(
            dag_run=run,
            dag_version=version,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task["task_id"],
            max_tries=task["retries"],
        )
    return run


def ti_of(run: DagRun, task_id: str, map_index: int = -1) -> TaskInstance:
    return TaskInstance.objects.get(dag_run=run, task_id=task_id, map_index=map_index)


def queue(ti: TaskInstance, try_number: int | None = None) -> TaskInstance:
    """What the scheduler does: next try, scheduled → queued."""
    ti.try_number = ti.try_number + 1 if try_number is None else try_number
    ti.state = "queued"
    ti.save(update_fields=["try_number", "state"])
    return ti


def set_state(ti: TaskInstance, state: str | None) -> TaskInstance:
    ti.state = state
    ti.save(update_fields=["state"])
    return ti


def now() -> datetime:
    return timezone.now()


# --- the executor contract's fake ------------------------------------------------------------


class RecordingExecutor(BaseExecutor):
    """The executor contract's fake (as Airflow's MockExecutor): records what it was given and
    lets the test decide when runners end. Used only for tick-level scheduler tests; the
    semantics suite runs the real local executor."""

    name = "recording"

    def __init__(self, parallelism: int = 32, name: str | None = None) -> None:
        super().__init__(parallelism)
        if name is not None:  # standing in for a named executor (`local`, `celery`) in a router
            self.name = name
        self.workloads: list[Workload] = []
        self.running: dict[str, int] = {}
        self.ended: list = []
        self.terminated: list[str] = []

    def start(self):
        pass

    def queue(self, workload: Workload) -> None:
        # Through the wire form and back, as a real executor's runner receives it.
        workload = Workload.parse(workload.to_json_bytes())
        self.workloads.append(workload)
        self.running[workload.ti_id] = workload.try_number

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

    def wait_handles(self):
        return []

    def end(self):
        pass

    def queued_task_ids(self) -> list[str]:
        return [w.task_id for w in self.workloads]


def noop() -> None:
    return None


def queue_one_try(dag_id: str, executor: RecordingExecutor | None = None):
    """A one-task DAG (retries=1) triggered once and ticked once: its only task instance is
    queued at try 1 and handed to `executor`. Returns that task instance."""
    from dagruns.actions.audit import Actor
    from dagruns.actions.runs import do_trigger_dag
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
