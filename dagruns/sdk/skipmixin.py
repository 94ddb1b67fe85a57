"""SkipMixin: an operator skips tasks downstream of it (Airflow 3's ``airflow.sdk.bases.skipmixin``).

Custom operators call ``self.skip(ti, tasks)`` or ``self.skip_all_except(ti, branch_task_ids)``
from ``execute``. As in Airflow 3 the choice is recorded in the ``skipmixin_key`` XCom and
``DownstreamTasksSkipped`` is raised: the task runner then reports the task successful and
hands the task ids to the Execution API, which skips those still waiting (an audited action
that refuses ids not downstream of the task).

Mapped instances (map_index >= 0): Airflow raises nothing there and leaves the skip to its
scheduler's NotPreviouslySkippedDep, which reads the XCom *at the downstream instance's own
map index* — so only downstream instances of the same mapped task group are ever skipped.
We have no such dependency; instead the same instances are named as ``(task_id, map_index)``
pairs in ``DownstreamTasksSkipped``, which gives the same final states.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from types import GeneratorType
from typing import Any

from .exceptions import AirflowException, DownstreamTasksSkipped

XCOM_SKIPMIXIN_KEY = "skipmixin_key"
XCOM_SKIPMIXIN_SKIPPED = "skipped"
XCOM_SKIPMIXIN_FOLLOWED = "followed"

_log = logging.getLogger(__name__)


def _ensure_tasks(nodes: Iterable[Any]) -> list[Any]:
    """The operators among `nodes` (Airflow drops task groups and other nodes silently)."""
    from .baseoperator import BaseOperator
    from .mappedoperator import MappedOperator

    return [node for node in nodes if isinstance(node, BaseOperator | MappedOperator)]


def _to_skip(ti: Any, tasks: Sequence[Any]) -> list[str | tuple[str, int]]:
    """What to skip for `ti`: every named task when the instance is not mapped; for a mapped
    instance, the same map index of the named tasks in its own mapped task group (what
    Airflow's NotPreviouslySkippedDep skips), and nothing else."""
    map_index = getattr(ti, "map_index", -1)
    if map_index is None or map_index < 0:
        return [task.task_id for task in tasks]
    group = getattr(getattr(ti, "task", None), "mapped_task_group", None)
    same_group = [
        task.task_id
        for task in tasks
        if group is not None and getattr(task, "mapped_task_group", None) is group
    ]
    return [(task_id, map_index) for task_id in same_group]


class SkipMixin:
    """A mixin to skip task instances (Airflow's name and methods)."""

    def _skip_logger(self) -> logging.Logger:
        # The operator's own logger when mixed into one (BaseOperator.log), else the module's.
        logger = getattr(self, "log", None)
        return logger if isinstance(logger, logging.Logger) else _log

    @staticmethod
    def _set_state_to_skipped(tasks: Sequence[str | tuple[str, int]]) -> None:
        """Hand the skip to the task runner, which reports it with the task's success."""
        if tasks:
            raise DownstreamTasksSkipped(tasks=list(tasks))

    def skip(self, ti: Any, tasks: Iterable[Any]) -> None:
        """Skip the instances of `tasks` (operators; other nodes are ignored, as Airflow) in
        this run. Records their ids in the ``skipmixin_key`` XCom."""
        task_list = _ensure_tasks(tasks)
        if not task_list:
            return
        if getattr(self, "task_id", None) is not None:
            ti.xcom_push(
                key=XCOM_SKIPMIXIN_KEY,
                value={XCOM_SKIPMIXIN_SKIPPED: [task.task_id for task in task_list]},
            )
        self._set_state_to_skipped(_to_skip(ti, task_list))

    def skip_all_except(self, ti: Any, branch_task_ids: None | str | Iterable[str]) -> None:
        """Follow `branch_task_ids` and skip the other tasks directly downstream of
        ``ti.task``. A direct downstream task that is also downstream of a followed task (the
        join after an empty branch) is followed too, as in Airflow."""
        if isinstance(branch_task_ids, GeneratorType):
            branch_task_ids = list(branch_task_ids)
        if isinstance(branch_task_ids, str):
            chosen = {branch_task_ids}
        elif branch_task_ids is None:
            chosen = set()
        elif isinstance(branch_task_ids, Iterable):
            chosen = set(branch_task_ids)
            invalid_types = {
                (bti, type(bti).__name__) for bti in chosen if not isinstance(bti, str)
            }
            if invalid_types:
                raise AirflowException(
                    "Unable to branch to the specified tasks. The branching function returned "
                    f"invalid 'branch_task_ids': {invalid_types}. Please check that your "
                    "function returns an Iterable of valid task IDs that exist in your DAG."
                )
        else:
            raise AirflowException(
                "'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, "
                f"but got {type(branch_task_ids).__name__!r}."
            )
        log = self._skip_logger()
        log.info("Following branch %s", sorted(chosen))
        task = ti.task
        dag = task.dag
        invalid = chosen - set(dag.task_ids)
        if invalid:
            raise AirflowException(
                "'branch_task_ids' must contain only valid task_ids. "
                f"Invalid tasks found: {sorted(invalid)}."
            )
        downstream = _ensure_tasks(task.downstream_list)
        if not downstream:
            return
        followed_and_below = set(chosen)
        for branch_task_id in chosen:
            followed_and_below |= dag.get_task(branch_task_id).get_flat_relative_ids(upstream=False)
        skipped = [t for t in downstream if t.task_id not in followed_and_below]
        follow_ids = [t.task_id for t in downstream if t.task_id in followed_and_below]
        log.info("Skipping tasks %s", [t.task_id for t in skipped])
        ti.xcom_push(key=XCOM_SKIPMIXIN_KEY, value={XCOM_SKIPMIXIN_FOLLOWED: follow_ids})
        self._set_state_to_skipped(_to_skip(ti, skipped))
