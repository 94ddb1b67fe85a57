"""A serialized DAG as the scheduler needs it: the task graph and each task's scheduling
fields, read once per DAG version and cached (versions never change once written)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # Setup/teardown: a teardown decides the run's state only with on_failure_fail_dagrun.
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    # Dynamic task mapping: the task runs as map-indexed instances; `expand_input` is what it
    # expands over itself (serialized), `mapped_group` the mapped task group it is in.
    is_mapped: bool = False
    expand_input: dict | None = None
    mapped_group: str | None = None
    # Airflow's start_from_trigger: the scheduler defers it to its start trigger instead of
    # scheduling it (dagruns/actions/start_from_trigger.py).
    starts_from_trigger: bool = False


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
    # group id -> serialized expand input of each mapped task group
    mapped_groups: dict[str, dict] = field(default_factory=dict)

    def expand_input_of(self, task_id: str) -> dict | None:
        """What the task's instances are expanded from: its own input or its group's."""
        spec = self.tasks[task_id]
        if spec.expand_input is not None:
            return spec.expand_input
        if spec.mapped_group is not None:
            return self.mapped_groups.get(spec.mapped_group)
        return None

    def run_state_leaves(self) -> tuple[str, ...]:
        """The tasks whose states decide a finished run's state (Airflow's
        ``_tis_for_dagrun_state``): effective leaves, where a teardown without
        on_failure_fail_dagrun is looked through: it is no leaf itself, and a task whose only
        downstream tasks are such teardowns is one. A DAG of nothing but ignorable teardowns
        falls back to its plain leaves."""

        def ignorable(task_id: str) -> bool:
            spec = self.tasks[task_id]
            return spec.is_teardown and not spec.on_failure_fail_dagrun

        effective = tuple(
            task_id
            for task_id in self.order
            if not ignorable(task_id) and all(ignorable(d) for d in self.tasks[task_id].downstream)
        )
        return effective or self.leaves

    def setups_and_teardowns_to_clear(self, task_id: str) -> set[str]:
        """What clearing ``task_id`` also clears (Airflow's rule): for a work task, its
        relevant upstream setups (those with no teardown, or with a teardown downstream of
        the task) and their teardowns; for a setup, its teardowns."""
        spec = self.tasks[task_id]
        extra: set[str] = set()
        if spec.is_setup:
            return {d for d in spec.downstream if self.tasks[d].is_teardown}
        below = self.downstream_closure([task_id])
        teardowns_below = {t for t in below if self.tasks[t].is_teardown}
        for up in self.upstream_closure([task_id]):
            up_spec = self.tasks[up]
            if not up_spec.is_setup:
                continue
            own_teardowns = {d for d in up_spec.downstream if self.tasks[d].is_teardown}
            if not own_teardowns or own_teardowns & teardowns_below:
                extra.add(up)
                extra |= own_teardowns - {task_id}
        return extra

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
    # executor when nothing would happen there (no callbacks to run, no outlets whose asset
    # events the runner reports, no inlets).
    return bool(task.get("inherits_from_empty_operator")) and not any(
        task.get(k)
        for k in (
            "has_on_success_callback",
            "has_on_execute_callback",
            "has_on_failure_callback",
            "outlets",
            "inlets",
        )
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
            is_teardown=bool(t.get("is_teardown")),
            on_failure_fail_dagrun=bool(t.get("on_failure_fail_dagrun")),
            is_mapped=bool(t.get("is_mapped")),
            expand_input=t.get("expand_input"),
            mapped_group=t.get("mapped_task_group_id"),
            starts_from_trigger=bool(t.get("start_from_trigger") and t.get("start_trigger_args")),
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
        mapped_groups=dict(_mapped_groups(serialized.get("task_group"))),
    )


def _mapped_groups(group: dict[str, Any] | None) -> Any:
    if not group:
        return
    if group.get("is_mapped") and group.get("expand_input") is not None:
        yield group["group_id"], group["expand_input"]
    for child in group.get("children", ()):
        if isinstance(child, dict):
            yield from _mapped_groups(child)


@lru_cache(maxsize=256)
def graph_for_version(version_id: int) -> DagGraph:
    from dagruns.domain.versions import serialized_of_version

    return build_graph(serialized_of_version(version_id))
