"""DAGs, runs and task instances for the dashboard's tests, written straight to the database
in the shape the DAG processor stores (so ids may hold anything the database can: quotes,
`<script>`, unicode — what the pages must survive)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from dagruns.models import DagModel, DagRun, DagTag, DagVersion, TaskInstance

T0 = datetime(2024, 1, 1, tzinfo=UTC)


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


def now() -> datetime:
    return timezone.now()
