"""Mapped task instances (Airflow's dynamic task mapping) as every surface addresses them.

Airflow's convention: a mapped task starts as one task instance with map_index -1; once its
expansion length n is known it has the rows 0..n-1 instead (a zero-length expansion leaves the
-1 row, skipped). So "which instance is meant" depends on the task: an unmapped task is its -1
row, a mapped one is addressed by its map index. The REST API, the pages and the CLI all ask
here, so a map index that does not exist or one given for an unmapped task is refused with the
same words everywhere.

Whether a task is mapped comes from its DAG version (the serialized task says `is_mapped`) or,
for versions serialized before that flag existed, from the rows themselves (any map index >= 0).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Max, Min

from dagruns.actions.errors import ActionRefused
from dagruns.domain.versions import serialized_of_version
from dagruns.models import DagRun, TaskInstance, TaskInstanceState


class MapIndexError(ActionRefused):
    """A map index that does not address a task instance; the message names it."""


class MapIndexNotFound(MapIndexError):
    pass


class TaskNotMapped(MapIndexError):
    pass


class TaskIsMapped(MapIndexError):
    """The task is mapped and no map index was given (Airflow's REST API answers 404 with
    "add the map_index value to the URL")."""


def mapped_task_ids(version_id: int) -> frozenset[str]:
    """The tasks a DAG version declares mapped (read through the versions' cache)."""
    serialized = serialized_of_version(version_id) or {}
    return frozenset(t["task_id"] for t in serialized.get("tasks", ()) if t.get("is_mapped"))


def is_mapped(run: DagRun, task_id: str) -> bool:
    if run.dag_version_id is not None and task_id in mapped_task_ids(run.dag_version_id):
        return True
    return TaskInstance.objects.filter(dag_run=run, task_id=task_id, map_index__gte=0).exists()


def _index_range(run: DagRun, task_id: str) -> str:
    found = TaskInstance.objects.filter(dag_run=run, task_id=task_id, map_index__gte=0).aggregate(
        low=Min("map_index"), high=Max("map_index"), n=Count("id")
    )
    if not found["n"]:
        return "it has no mapped instances yet"
    return f"it has {found['n']} instances, map index {found['low']}..{found['high']}"


def get_mapped_ti_or_raise(run: DagRun, task_id: str, map_index: int | None) -> TaskInstance:
    """The task instance of `task_id` in `run` at `map_index` (None: the task itself, which
    must then be unmapped or not yet expanded)."""
    index = -1 if map_index is None else map_index
    ti = TaskInstance.objects.filter(dag_run=run, task_id=task_id, map_index=index).first()
    if ti is not None:
        # -1 of a mapped task not expanded yet (or expanded to nothing) is the task itself.
        return ti
    if not TaskInstance.objects.filter(dag_run=run, task_id=task_id).exists():
        raise MapIndexNotFound(
            f"Task {task_id!r} has no task instance in run {run.run_id!r} of DAG {run.dag_id!r}"
        )
    mapped = is_mapped(run, task_id)
    if map_index is None or map_index < 0:
        raise TaskIsMapped(
            f"Task {task_id!r} in run {run.run_id!r} is mapped: give a map index "
            f"({_index_range(run, task_id)})"
        )
    if not mapped:
        raise TaskNotMapped(
            f"Task {task_id!r} is not mapped: map index {map_index} does not apply to it"
        )
    raise MapIndexNotFound(
        f"Task {task_id!r} in run {run.run_id!r} has no map index {map_index}: "
        f"{_index_range(run, task_id)}"
    )


def check_map_index_applies(run: DagRun, task_id: str, map_index: int) -> None:
    """Refuse a map index (>= 0) for a task that is not mapped: `--map-index 3` on a plain
    task is a mistake to name, not a silent no-op."""
    if map_index >= 0 and not is_mapped(run, task_id):
        raise TaskNotMapped(
            f"Task {task_id!r} is not mapped: map index {map_index} does not apply to it"
        )


@dataclass(frozen=True)
class MappedSummary:
    """A mapped task's instances in one run: how many, and how many in each state."""

    count: int
    states: dict[str, int]  # "none" for no state yet; most frequent first


# Equal counts are listed in the states' own order (then "none"), not in the order the
# database returned the rows, which differs between engines.
_STATE_ORDER = {state: n for n, state in enumerate([*TaskInstanceState.values, "none"])}


def summarize(states: list[str | None]) -> MappedSummary:
    counts = Counter(s or "none" for s in states)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], _STATE_ORDER.get(kv[0], 99), kv[0]))
    return MappedSummary(count=len(states), states=dict(ordered))
