"""Building DAGs, runs and task instances directly with the ORM, in the serialized shape the
DAG processor stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dagruns.models import DagModel, DagRun, DagVersion, TaskInstance

LOGICAL_DATE = datetime(2024, 1, 1, tzinfo=UTC)


def serialized_dag(
    dag_id: str, edges: dict[str, list[str]], settings: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`edges` maps each task id to its direct downstream ids; `settings` overrides task keys."""
    settings = settings or {}
    upstream: dict[str, list[str]] = {task_id: [] for task_id in edges}
    for task_id, downstream in edges.items():
        for other in downstream:
            upstream.setdefault(other, []).append(task_id)
    tasks = []
    for task_id in upstream:
        task = {
            "task_id": task_id,
            "retries": 0,
            "retry_delay": 300.0,
            "retry_exponential_backoff": False,
            "max_retry_delay": None,
            "execution_timeout": None,
            "trigger_rule": "all_success",
            "downstream_task_ids": sorted(edges.get(task_id, [])),
            "upstream_task_ids": sorted(upstream[task_id]),
        }
        task.update(settings.get(task_id, {}))
        tasks.append(task)
    return {"dag_id": dag_id, "fileloc": f"/dags/{dag_id}.py", "tasks": tasks}


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
    serialized = serialized_dag(dag_id, edges, settings)
    version = dag.versions.first() or DagVersion.objects.create(
        dag=dag,
        version_number=1,
        serialized=serialized,
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
