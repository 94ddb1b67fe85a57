"""The tasks a successful try asked to skip with ``DownstreamTasksSkipped`` (SkipMixin).

Airflow 3's task runner sends them to the Execution API (``SkipDownstreamTasks``); ours
reports them with the try's success (``TaskResult.downstream_tasks_skipped``), so the skips
and the success commit together. Checked here first, so a task naming a task that is not
downstream of it fails with a message naming it rather than being refused by the server
after it has run.
"""

from __future__ import annotations

from typing import Any

from dagruns.sdk.exceptions import AirflowException, DownstreamTasksSkipped


def requested_skips(task: Any, signal: DownstreamTasksSkipped) -> list[str | tuple[str, int]]:
    """``signal.tasks`` as ids and ``(task_id, map_index)`` pairs, each downstream of `task`.

    Raises AirflowException naming a malformed entry or a task that is not downstream."""
    # Airflow's runner: a list is the tasks, anything else is one task.
    entries = signal.tasks if isinstance(signal.tasks, list) else [signal.tasks]
    requested: list[str | tuple[str, int]] = []
    for entry in entries:
        if isinstance(entry, str):
            requested.append(entry)
        elif (
            isinstance(entry, tuple | list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], int)
            and not isinstance(entry[1], bool)
        ):
            requested.append((entry[0], entry[1]))
        else:
            raise AirflowException(
                f"DownstreamTasksSkipped: {entry!r} is neither a task id nor a "
                "(task_id, map_index) pair"
            )
    downstream = task.get_flat_relative_ids(upstream=False)
    not_downstream = sorted(
        {item if isinstance(item, str) else item[0] for item in requested} - downstream
    )
    if not_downstream:
        raise AirflowException(
            f"Task {task.task_id!r} asked to skip {not_downstream}, which "
            f"{'is not a task' if len(not_downstream) == 1 else 'are not tasks'} downstream "
            "of it; only downstream tasks can be skipped"
        )
    return requested
