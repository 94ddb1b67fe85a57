"""Other DAGs' run and task states, as a sensor in one DAG asks for them (ExternalTaskSensor
through the Execution API: Airflow 3's /dag-runs/count, /task-instances/count and
/task-instances/states)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from dagruns.models import DagModel, DagRun, TaskInstance


def _runs(
    dag_id: str, logical_dates: Iterable[datetime] | None, run_ids: Iterable[str] | None
) -> QuerySet[DagRun]:
    runs = DagRun.objects.filter(dag_id=dag_id)
    if logical_dates:
        runs = runs.filter(logical_date__in=list(logical_dates))
    if run_ids:
        runs = runs.filter(run_id__in=list(run_ids))
    return runs


def _state_filter(states: Iterable[str]) -> Q:
    """Airflow's state names; "none" (and None) is a task instance not yet considered."""
    named = [s for s in states if s not in (None, "none")]
    condition = Q(state__in=named)
    if len(named) != len(list(states)):
        condition |= Q(state__isnull=True)
    return condition


def group_task_ids(dag_id: str, group_id: str) -> list[str]:
    """Ids of the tasks inside task group `group_id` (nested groups included) of the DAG's
    latest parsed version; empty when the DAG or the group is unknown."""
    dag = DagModel.objects.filter(dag_id=dag_id).first()
    version = dag.latest_version() if dag is not None else None
    if version is None:
        return []
    found = _find_group(version.serialized.get("task_group") or {}, group_id)
    return sorted(_tasks_in(found)) if found is not None else []


def _find_group(node: dict[str, Any], group_id: str) -> dict[str, Any] | None:
    if node.get("group_id") == group_id:
        return node
    for child in node.get("children") or ():
        if isinstance(child, dict):
            found = _find_group(child, group_id)
            if found is not None:
                return found
    return None


def _tasks_in(node: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for child in node.get("children") or ():
        found |= _tasks_in(child) if isinstance(child, dict) else {child}
    return found


def _task_instances(
    dag_id: str,
    *,
    map_index: int | None,
    task_ids: Iterable[str] | None,
    task_group_id: str | None,
    logical_dates: Iterable[datetime] | None,
    run_ids: Iterable[str] | None,
) -> QuerySet[TaskInstance]:
    tis = TaskInstance.objects.filter(dag_run__in=_runs(dag_id, logical_dates, run_ids))
    if task_group_id is not None:
        tis = tis.filter(task_id__in=group_task_ids(dag_id, task_group_id))
    if task_ids:
        tis = tis.filter(task_id__in=list(task_ids))
    if map_index is not None:
        tis = tis.filter(map_index=map_index)
    return tis


def dag_run_count(
    dag_id: str,
    *,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> int:
    runs = _runs(dag_id, logical_dates, run_ids)
    if states:
        runs = runs.filter(state__in=list(states))
    return runs.count()


def task_instance_count(
    dag_id: str,
    *,
    map_index: int | None = None,
    task_ids: Iterable[str] | None = None,
    task_group_id: str | None = None,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> int:
    tis = _task_instances(
        dag_id,
        map_index=map_index,
        task_ids=task_ids,
        task_group_id=task_group_id,
        logical_dates=logical_dates,
        run_ids=run_ids,
    )
    if states:
        tis = tis.filter(_state_filter(list(states)))
    return tis.count()


def task_states(
    dag_id: str,
    *,
    map_index: int | None = None,
    task_ids: Iterable[str] | None = None,
    task_group_id: str | None = None,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
) -> dict[str, dict[str, str | None]]:
    """{run_id: {task_id (task_id_<map_index> for mapped instances): state}}."""
    tis = _task_instances(
        dag_id,
        map_index=map_index,
        task_ids=task_ids,
        task_group_id=task_group_id,
        logical_dates=logical_dates,
        run_ids=run_ids,
    )
    states: dict[str, dict[str, str | None]] = defaultdict(dict)
    for run_id, task_id, index, state in tis.values_list("run_id", "task_id", "map_index", "state"):
        states[run_id][task_id if index < 0 else f"{task_id}_{index}"] = state
    return dict(states)
