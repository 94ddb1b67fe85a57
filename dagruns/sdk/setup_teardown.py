"""``with teardown_task.as_teardown(setups=setup_task):`` — Airflow's setup/teardown
context manager.

Tasks created (or linked with ``>>``) inside the block are the work: when the block ends,
the setups are put upstream of the work's roots and the teardowns downstream of its leaves.
Blocks nest; a task counts as work for every open block. Module-level, like the DAG stack:
DAG files are imported in a single thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .exceptions import DagDefinitionError

if TYPE_CHECKING:
    from .baseoperator import BaseOperator


@dataclass
class SetupTeardownScope:
    setups: list[BaseOperator]
    teardowns: list[BaseOperator]
    work: dict[int, BaseOperator] = field(default_factory=dict)

    def _owns(self, task: BaseOperator) -> bool:
        return any(task is own for own in (*self.setups, *self.teardowns))

    def close(self) -> None:
        work = [task for task in self.work.values() if not self._owns(task)]
        ids = {task.task_id for task in work}
        roots = [task for task in work if task.upstream_task_ids.isdisjoint(ids)]
        leaves = [task for task in work if task.downstream_task_ids.isdisjoint(ids)]
        for setup in self.setups:
            if roots:
                setup.set_downstream(roots)
        for teardown in self.teardowns:
            if leaves:
                teardown.set_upstream(leaves)


_scopes: list[SetupTeardownScope] = []


def enter_scope(task: BaseOperator) -> SetupTeardownScope:
    """Open a block around a setup task (its teardowns join) or a teardown (its setups
    join); any other task is refused, as in Airflow."""
    if task.is_teardown:
        setups = [up for up in task.upstream_list if up.is_setup]
        scope = SetupTeardownScope(setups=setups, teardowns=[task])
    elif task.is_setup:
        teardowns = [down for down in task.downstream_list if down.is_teardown]
        scope = SetupTeardownScope(setups=[task], teardowns=teardowns)
    else:
        raise DagDefinitionError(
            f"Only setup/teardown tasks can be used as context managers; task "
            f"{task.task_id!r} is neither (use .as_setup() or .as_teardown(setups=...))"
        )
    _scopes.append(scope)
    return scope


def exit_scope(failed: bool) -> None:
    scope = _scopes.pop()
    if not failed:  # an exception in the block: leave the half-built graph alone
        scope.close()


def note_task(task: BaseOperator) -> None:
    """A task created or linked while blocks are open is work of each of them."""
    for scope in _scopes:
        scope.work.setdefault(id(task), task)
