"""Checks of the tasks a SkipMixin operator asks to skip (DownstreamTasksSkipped), reported
with its try's success (do_finish_try's `downstream_tasks_skipped`).

Airflow 3's ``PATCH /task-instances/{id}/skip-downstream`` skips whatever it is given; here
every task must be downstream of the reporting task in the run's DAG version, so a runner
cannot skip upstream or unrelated tasks. Downstream, not only direct downstream: Airflow's own
ShortCircuitOperator passes ``skip()`` every task below it, and custom operators copy it.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagruns.actions.errors import ActionRefused


class SkipRefused(ActionRefused):
    """A task asked to skip something that is not downstream of it, or an invalid entry."""


def check_downstream_skips(
    task_id: str, requested: Iterable[str | tuple[str, int] | list], downstream: set[str]
) -> tuple[set[str], set[tuple[str, int]]]:
    """(task ids to skip with all their map indexes, (task_id, map_index) instances to skip).

    A bare id or map index -1 names the task (Airflow skips its -1 row, the row a mapped task
    has until expanded; we skip every waiting row of it, the same thing once expanded).
    Raises SkipRefused naming the entries that are not downstream of `task_id`."""
    whole: set[str] = set()
    instances: set[tuple[str, int]] = set()
    for entry in requested:
        if isinstance(entry, str):
            whole.add(entry)
            continue
        target, map_index = entry
        if map_index < -1:
            raise SkipRefused(f"downstream_tasks_skipped: map_index {map_index} of {target!r}")
        if map_index == -1:
            whole.add(target)
        else:
            instances.add((target, map_index))
    not_downstream = sorted(({t for t, _ in instances} | whole) - downstream)
    if not_downstream:
        raise SkipRefused(
            f"downstream_tasks_skipped: {not_downstream} "
            f"{'is not a task' if len(not_downstream) == 1 else 'are not tasks'} downstream "
            f"of {task_id!r}"
        )
    return whole, instances
