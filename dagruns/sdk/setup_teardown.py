"""``with teardown_task.as_teardown(setups=setup_task):`` — Airflow's setup/teardown
context manager, with the rules of Airflow's ``SetupTeardownContext``:

* the work of a block is the tasks created (or linked with ``>>``) directly inside it, other
  than setup and teardown tasks;
* when the block ends, its setups go upstream of the work tasks that have no upstream task
  at all (else of the first work task), its teardowns downstream of those with no downstream
  task (else of the last);
* a block inside another links its setups after the outer setups and its teardowns before the
  outer teardowns (``outer_setup >> inner_setup``, ``inner_teardown >> outer_teardown``).

Module-level, like the DAG stack: DAG files are imported in a single thread.
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

    def close(self) -> None:
        # Roles are read now: a task may have become a setup/teardown after it was noted.
        work = [t for t in self.work.values() if not t.is_setup and not t.is_teardown]
        if not work:
            return
        roots = [task for task in work if not task.upstream_task_ids] or [work[0]]
        leaves = [task for task in work if not task.downstream_task_ids] or [work[-1]]
        for setup in self.setups:
            setup.set_downstream(roots)
        for teardown in self.teardowns:
            teardown.set_upstream(leaves)

    def nest_into(self, outer: SetupTeardownScope) -> None:
        for setup in outer.setups:
            if self.setups:
                setup.set_downstream(self.setups)
        for teardown in outer.teardowns:
            if self.teardowns:
                teardown.set_upstream(self.teardowns)


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
    if failed:  # an exception in the block: leave the half-built graph alone
        return
    # The edges made here are the block's own wiring, not work of an enclosing block.
    outer, _scopes[:] = list(_scopes), []
    try:
        scope.close()
        if outer:
            scope.nest_into(outer[-1])
    finally:
        _scopes[:] = outer


def note_task(task: BaseOperator) -> None:
    """A task created or linked while a block is open is work of the innermost block."""
    if _scopes:
        _scopes[-1].work.setdefault(id(task), task)
