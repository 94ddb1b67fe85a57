"""TaskMixin: a task's place in the graph (edges, relatives, effective priority,
setup/teardown roles).

Kept apart from BaseOperator, which holds the task's settings; both describe one task.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Self, cast

from .dependencies import DependencyMixin, flatten_nodes
from .exceptions import DagDefinitionError
from .setup_teardown import _scopes, enter_scope, exit_scope, note_task
from .trigger_rule import TriggerRule
from .weight_rule import WeightRule
from .xcom_arg import XComArg

if TYPE_CHECKING:
    from .baseoperator import BaseOperator
    from .dag import DAG

# Priorities are stored in a 32-bit integer column (as in Airflow).
_MIN_PRIORITY, _MAX_PRIORITY = -(2**31), 2**31 - 1


class TaskMixin(DependencyMixin):
    """Graph behaviour of a task; the attributes it reads are set by BaseOperator."""

    task_id: str
    upstream_task_ids: set[str]
    downstream_task_ids: set[str]
    priority_weight: int
    on_failure_fail_dagrun: bool
    _is_setup: bool
    _is_teardown: bool
    _dag: DAG | None
    dag: DAG
    if TYPE_CHECKING:  # properties of BaseOperator, declared for type checkers only
        trigger_rule: TriggerRule
        weight_rule: WeightRule

    @property
    def roots(self) -> list[BaseOperator]:
        return [self]  # type: ignore[list-item]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [self]  # type: ignore[list-item]

    @property
    def output(self) -> XComArg:
        """An XComArg for this task's return value."""
        return XComArg(self)  # type: ignore[arg-type]

    def _set_relatives(self, other: Any, upstream: bool, edge_modifier: Any = None) -> None:
        tasks: list[BaseOperator] = []
        for node in flatten_nodes(other):
            node.update_relative(self, not upstream, edge_modifier=edge_modifier)
            tasks.extend(node.leaves if upstream else node.roots)
        dags = {id(task._dag): task._dag for task in [self, *tasks] if task._dag is not None}
        if len(dags) > 1:
            names = sorted(dag.dag_id for dag in dags.values())
            raise DagDefinitionError(
                f"Tried to set relationships between tasks in more than one DAG: {names}"
            )
        if not dags:
            raise DagDefinitionError(
                "Tried to create relationships between tasks that don't have DAGs yet. "
                f"Set the DAG for at least one task and try again: {[self, *tasks]}"
            )
        (dag,) = dags.values()
        if self._dag is None:
            dag.add_task(cast("BaseOperator", self))
        if _scopes:  # linked inside `with teardown_task:`: part of the block's work
            for task in [self, *tasks]:
                note_task(cast("BaseOperator", task))
        for task in tasks:
            if task._dag is None:
                dag.add_task(task)
            if upstream:
                task.downstream_task_ids.add(self.task_id)
                self.upstream_task_ids.add(task.task_id)
            else:
                self.downstream_task_ids.add(task.task_id)
                task.upstream_task_ids.add(self.task_id)
            if edge_modifier is not None:
                up, down = (task, self) if upstream else (self, task)
                edge_modifier.add_edge_info(dag, up.task_id, down.task_id)

    @property
    def upstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(task_id) for task_id in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(task_id) for task_id in sorted(self.downstream_task_ids)]

    def get_direct_relative_ids(self, upstream: bool = False) -> set[str]:
        return set(self.upstream_task_ids if upstream else self.downstream_task_ids)

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Ids of all ancestors (upstream=True) or all descendants of this task."""
        dag = self.dag
        found: set[str] = set()
        queue = deque(self.get_direct_relative_ids(upstream))
        while queue:
            task_id = queue.popleft()
            if task_id in found:
                continue
            found.add(task_id)
            queue.extend(dag.get_task(task_id).get_direct_relative_ids(upstream) - found)
        return found

    @property
    def priority_weight_total(self) -> int:
        """Effective priority: own weight plus descendants' (downstream rule) or
        ancestors' (upstream rule) weights; absolute uses the own weight only."""
        if self.weight_rule == WeightRule.ABSOLUTE or self._dag is None:
            total = self.priority_weight
        else:
            relatives = self.get_flat_relative_ids(upstream=self.weight_rule == WeightRule.UPSTREAM)
            total = self.priority_weight + sum(
                self.dag.get_task(t).priority_weight for t in relatives
            )
        return max(_MIN_PRIORITY, min(_MAX_PRIORITY, total))

    # -- setup / teardown ------------------------------------------------------------

    @property
    def is_setup(self) -> bool:
        return self._is_setup

    @is_setup.setter
    def is_setup(self, value: bool) -> None:
        if value and self._is_teardown:
            raise DagDefinitionError(
                f"Cannot mark task {self.task_id!r} as setup; it is already a teardown."
            )
        self._is_setup = bool(value)

    @property
    def is_teardown(self) -> bool:
        return self._is_teardown

    @is_teardown.setter
    def is_teardown(self, value: bool) -> None:
        if value and self._is_setup:
            raise DagDefinitionError(
                f"Cannot mark task {self.task_id!r} as teardown; it is already a setup."
            )
        self._is_teardown = bool(value)

    def __enter__(self) -> Self:
        """``with teardown.as_teardown(setups=setup):`` (see setup_teardown)."""
        enter_scope(cast("BaseOperator", self))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        exit_scope(failed=exc_type is not None)

    def as_setup(self) -> Self:
        self.is_setup = True
        return self

    def as_teardown(self, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> Self:
        """Mark as teardown (trigger rule all_done_setup_success), downstream of ``setups``."""
        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not None:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            for node in flatten_nodes(setups):
                for task in node.leaves:
                    task.is_setup = True
                self.set_upstream(node)
        return self
