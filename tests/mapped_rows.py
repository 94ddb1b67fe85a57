"""Mapped task instances written straight to the database, as the scheduler leaves them after
an expansion (Airflow's convention: the -1 row becomes index 0, the others are created): the
views, REST API and CLI tests need the rows, not the engine that makes them."""

from __future__ import annotations

from datetime import timedelta

from dagruns.models import DagRun, TaskInstance
from tests.builders import LOGICAL_DATE


def expand(run: DagRun, task_id: str, states: list[str | None]) -> list[TaskInstance]:
    """Turn `task_id`'s -1 row into len(states) instances with these states (try 1 for those
    with a state) and mark the task mapped in the run's serialized DAG."""
    version = run.dag_version
    tasks = version.serialized["tasks"]
    for task in tasks:
        if task["task_id"] == task_id:
            task["is_mapped"] = True
    version.save(update_fields=["serialized"])
    template = TaskInstance.objects.get(dag_run=run, task_id=task_id, map_index=-1)
    TaskInstance.objects.filter(pk=template.pk).delete()
    rows = []
    for index, state in enumerate(states):
        started = LOGICAL_DATE + timedelta(seconds=index)
        rows.append(
            TaskInstance(
                dag_run=run,
                dag_version=version,
                dag_id=run.dag_id,
                run_id=run.run_id,
                task_id=task_id,
                map_index=index,
                state=state,
                try_number=1 if state else 0,
                max_tries=template.max_tries,
                operator=template.operator,
                start_date=started if state else None,
                end_date=started + timedelta(seconds=2) if state in ("success", "failed") else None,
                duration=2.0 + index if state in ("success", "failed") else None,
                rendered_map_index=f"item-{index}" if index % 2 == 0 else "",
            )
        )
    TaskInstance.objects.bulk_create(rows)
    return list(TaskInstance.objects.filter(dag_run=run, task_id=task_id).order_by("map_index"))


def mark_mapped(run: DagRun, task_id: str) -> None:
    """Declare `task_id` mapped in the run's serialized DAG without expanding it (not yet
    expanded, or expanded to nothing)."""
    version = run.dag_version
    for task in version.serialized["tasks"]:
        if task["task_id"] == task_id:
            task["is_mapped"] = True
    version.save(update_fields=["serialized"])
