"""A serialized DAG as the scheduler needs it: the task graph and each task's scheduling
fields, read once per DAG version and cached (versions never change once written)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    task_id: str
    task_type: str
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]
    trigger_rule: str
    is_setup: bool
    depends_on_past: bool
    runs_itself: bool  # an EmptyOperator without callbacks: the scheduler marks it success
    priority_weight: int
    pool: str
    pool_slots: int
    queue: str
    # The executor the task asked for (operator `executor=`); None: the default one.
    executor: str | None
    retries: int
    executor_config: dict
    execution_timeout: float | None
    # Airflow's per-task concurrency: tries of this task queued or running at once, across
    # all runs of the DAG / within one run (None: no limit of its own).
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    # Airflow's PrevDagrunDep: wait_for_downstream (implies depends_on_past) also waits for the
    # previous run's immediate downstream of this task; ignore_first_depends_on_past lets a
    # task that never ran before start although the previous run has no instance of it.
    wait_for_downstream: bool = False
    ignore_first_depends_on_past: bool = True


@dataclass(frozen=True)
class DagGraph:
    dag_id: str
    tasks: dict[str, TaskSpec]
    order: tuple[str, ...]  # topological
    leaves: tuple[str, ...]
    max_active_tasks: int
    max_active_runs: int
    dagrun_timeout: float | None
    params: dict[str, Any]

    def downstream_closure(self, task_ids: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(task_ids)
        while stack:
            for child in self.tasks[stack.pop()].downstream:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def upstream_closure(self, task_ids: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(task_ids)
        while stack:
            for parent in self.tasks[stack.pop()].upstream:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen


def _runs_itself(task: dict[str, Any]) -> bool:
    # Airflow's scheduler sets EmptyOperator tasks to success without sending them to an
    # executor when nothing would happen there (no callbacks to run).
    return bool(task.get("inherits_from_empty_operator")) and not any(
        task.get(k)
        for k in ("has_on_success_callback", "has_on_execute_callback", "has_on_failure_callback")
    )


def build_graph(serialized: dict[str, Any]) -> DagGraph:
    tasks: dict[str, TaskSpec] = {}
    for t in serialized["tasks"]:
        tasks[t["task_id"]] = TaskSpec(
            task_id=t["task_id"],
            task_type=t.get("task_type", ""),
            upstream=tuple(t.get("upstream_task_ids", ())),
            downstream=tuple(t.get("downstream_task_ids", ())),
            trigger_rule=t.get("trigger_rule", "all_success"),
            is_setup=bool(t.get("is_setup")),
            depends_on_past=bool(t.get("depends_on_past")),
            runs_itself=_runs_itself(t),
            priority_weight=int(t.get("priority_weight_total", t.get("priority_weight", 1))),
            pool=t.get("pool") or "default_pool",
            pool_slots=int(t.get("pool_slots", 1)),
            queue=t.get("queue") or "default",
            executor=t.get("executor") or None,
            retries=int(t.get("retries") or 0),
            executor_config=t.get("executor_config") or {},
            execution_timeout=t.get("execution_timeout"),
            max_active_tis_per_dag=t.get("max_active_tis_per_dag"),
            max_active_tis_per_dagrun=t.get("max_active_tis_per_dagrun"),
            wait_for_downstream=bool(t.get("wait_for_downstream")),
            ignore_first_depends_on_past=bool(t.get("ignore_first_depends_on_past", True)),
        )
    order = tuple(t["task_id"] for t in serialized["tasks"])
    return DagGraph(
        dag_id=serialized["dag_id"],
        tasks=tasks,
        order=order,
        leaves=tuple(tid for tid in order if not tasks[tid].downstream),
        max_active_tasks=int(serialized.get("max_active_tasks", 16)),
        max_active_runs=int(serialized.get("max_active_runs", 16)),
        dagrun_timeout=serialized.get("dagrun_timeout"),
        params=serialized.get("params") or {},
    )


@lru_cache(maxsize=256)
def graph_for_version(version_id: int) -> DagGraph:
    from dagruns.domain.versions import serialized_of_version

    return build_graph(serialized_of_version(version_id))
