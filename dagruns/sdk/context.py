"""The ``with DAG(...)`` / ``with TaskGroup(...)`` stacks that operators read at creation.

Module-level stacks, as in Airflow: DAG files are imported in a single thread, and the
stacks are pushed and popped strictly by context managers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dag import DAG
    from .taskgroup import TaskGroup

_dag_stack: list[DAG] = []
_group_stack: list[TaskGroup] = []


def push_dag(dag: DAG) -> None:
    _dag_stack.append(dag)


def pop_dag() -> DAG | None:
    return _dag_stack.pop() if _dag_stack else None


def current_dag() -> DAG | None:
    return _dag_stack[-1] if _dag_stack else None


def push_task_group(group: TaskGroup) -> None:
    _group_stack.append(group)


def pop_task_group() -> TaskGroup | None:
    return _group_stack.pop() if _group_stack else None


def current_task_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost open group of ``dag``, else the DAG's root group (None without a DAG)."""
    for group in reversed(_group_stack):
        if dag is None or group.dag is dag:
            return group
    return dag.task_group if dag is not None else None
