"""Expanding a mapped task into its map-indexed instances (Airflow's expand_mapped_task).

A mapped task starts as one task instance with map_index -1. As soon as the number of its
instances is known — at once for literal lists, once the tasks whose results it maps over
have succeeded otherwise — that row becomes map index 0 and rows 1..n-1 are created beside
it. Zero instances: the -1 row is skipped (its downstream then follows its trigger rule).
More than ORCH_MAX_MAP_LENGTH: the -1 row fails, with the reason in its log.

Lengths are computed from the serialized expand input (dagruns/sdk/expandinput.py), with
the same rules as the runner's resolution: a list or dict counts its items, a mapped task's
results count the instances that pushed one, ``map`` keeps the length, ``zip`` takes the
shortest (the longest with a fillvalue), ``concat`` adds them up, several ``expand()``
arguments multiply (cartesian product).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from dagruns.domain import logs
from dagruns.domain.dag_graph import DagGraph
from dagruns.models import DagRun, TaskInstance, TaskInstanceState, XCom
from dagruns.models.states import TI_FINISHED

TIS = TaskInstanceState


class LengthUnknown(Exception):
    """Not known yet (upstream still running), or never (it did not succeed): the trigger rule
    decides about the unexpanded row meanwhile."""


class CannotExpand(Exception):
    """The expansion itself is wrong (a bad value, too long): the mapped task fails."""


@dataclass(frozen=True)
class Expansion:
    """How many instances a mapped task gets, or why it fails instead."""

    length: int | None = None
    error: str | None = None


def map_length(
    graph: DagGraph,
    task_id: str,
    run_pk: int,
    states: Mapping[str, Mapping[int, str | None]],
) -> Expansion | None:
    """The expansion of `task_id` in this run, or None while it cannot be known."""
    expand_input = graph.expand_input_of(task_id)
    if expand_input is None:
        return Expansion(error=f"mapped task {task_id!r} has no expand input in its DAG version")
    try:
        length = _input_length(expand_input, graph, run_pk, states)
    except LengthUnknown:
        return None
    except CannotExpand as exc:
        return Expansion(error=str(exc))
    limit = settings.ORCH.max_map_length
    if length > limit:
        return Expansion(
            error=f"mapped task {task_id!r} would expand into {length} instances, over the "
            f"maximum map length of {limit} (ORCH_MAX_MAP_LENGTH)"
        )
    return Expansion(length=length)


def _input_length(
    expand_input: Mapping[str, Any],
    graph: DagGraph,
    run_pk: int,
    states: Mapping[str, Mapping[int, str | None]],
) -> int:
    kind = expand_input.get("type")
    value = expand_input.get("value")
    if kind == "dict-of-lists":
        total = 1
        for name, item in (value or {}).items():
            total *= _value_length(item, graph, run_pk, states, f"argument {name!r}")
        return total
    if kind == "list-of-dicts":
        return _value_length(value, graph, run_pk, states, "expand_kwargs()")
    raise CannotExpand(f"unknown kind of expand input {kind!r}")


def _value_length(
    value: Any,
    graph: DagGraph,
    run_pk: int,
    states: Mapping[str, Mapping[int, str | None]],
    what: str,
) -> int:
    if isinstance(value, dict) and "__xcomarg" in value:
        ref = value["__xcomarg"]
        kind = ref.get("type")
        if kind == "map":
            return _value_length(ref["arg"], graph, run_pk, states, what)
        if kind == "zip":
            lengths = [_value_length(arg, graph, run_pk, states, what) for arg in ref["args"]]
            return max(lengths, default=0) if ref.get("has_fillvalue") else min(lengths, default=0)
        if kind == "concat":
            return sum(_value_length(arg, graph, run_pk, states, what) for arg in ref["args"])
        return _pushed_length(ref["task_id"], ref.get("key", "return_value"), graph, run_pk, states)
    if isinstance(value, dict) and "__mapped_argument" in value:
        raise CannotExpand(f"{what}: a mapped task group's argument cannot be expanded again")
    if isinstance(value, list | dict):
        return len(value)
    raise CannotExpand(f"{what}: cannot map over a value of type {type(value).__name__!r}")


def _pushed_length(
    task_id: str,
    key: str,
    graph: DagGraph,
    run_pk: int,
    states: Mapping[str, Mapping[int, str | None]],
) -> int:
    instances = states.get(task_id) or {}
    spec = graph.tasks.get(task_id)
    if spec is not None and spec.is_mapped:
        # A mapped task's results: one per instance that pushed one, once all have finished.
        if -1 in instances or any(state not in TI_FINISHED for state in instances.values()):
            raise LengthUnknown
        return XCom.objects.filter(
            dag_run_id=run_pk, task_id=task_id, key=key, map_index__gte=0
        ).count()
    if instances.get(-1) != TIS.SUCCESS:
        raise LengthUnknown
    xcom = XCom.objects.filter(dag_run_id=run_pk, task_id=task_id, key=key, map_index=-1).first()
    if xcom is None:
        raise CannotExpand(f"task {task_id!r} pushed no XCom {key!r} to map over")
    pushed = xcom.value
    if isinstance(pushed, list | dict):
        return len(pushed)
    raise CannotExpand(
        f"task {task_id!r} pushed a {type(pushed).__name__!r} as XCom {key!r}; only a list or "
        "a dict can be mapped over"
    )


def expand(run: DagRun, task_id: str, length: int, now: datetime) -> int:
    """Turn the unexpanded row into instances 0..length-1 (or skip it for length 0).
    Returns the rows changed; 0 when someone else expanded or settled it meanwhile."""
    with transaction.atomic():
        row = (
            TaskInstance.objects.select_for_update()
            .filter(dag_run_id=run.pk, task_id=task_id, map_index=-1, state__isnull=True)
            .first()
        )
        if row is None:
            return 0
        if length == 0:
            TaskInstance.objects.filter(pk=row.pk).update(
                state=TIS.SKIPPED, start_date=now, end_date=now, duration=0.0
            )
            return 1
        TaskInstance.objects.filter(pk=row.pk).update(map_index=0)
        TaskInstance.objects.bulk_create(
            [
                TaskInstance(
                    dag_run_id=run.pk,
                    dag_id=row.dag_id,
                    run_id=row.run_id,
                    task_id=task_id,
                    map_index=index,
                    state=None,
                    pool=row.pool,
                    pool_slots=row.pool_slots,
                    queue=row.queue,
                    priority_weight=row.priority_weight,
                    operator=row.operator,
                    task_display_name=row.task_display_name,
                    executor_config=row.executor_config,
                    max_tries=row.max_tries,
                    dag_version_id=row.dag_version_id,
                )
                for index in range(1, length)
            ]
        )
    return length


def fail_expansion(run: DagRun, task_id: str, reason: str, now: datetime) -> int:
    """The mapped task cannot expand: its unexpanded row fails, the reason in its try's log
    (try 1, so the task page shows it like any failed try's)."""
    with transaction.atomic():
        changed = TaskInstance.objects.filter(
            dag_run_id=run.pk, task_id=task_id, map_index=-1, state__isnull=True
        ).update(
            state=TIS.FAILED,
            try_number=F("try_number") + 1,
            start_date=now,
            end_date=now,
            duration=0.0,
        )
        if not changed:
            return 0
        row = TaskInstance.objects.get(dag_run_id=run.pk, task_id=task_id, map_index=-1)
    logs.append_lines(
        logs.ti_log_path(row),
        [f"[{now.isoformat()}] ERROR - Cannot expand the mapped task: {reason}"],
    )
    return changed


def referenced_tasks(value: Any) -> set[str]:
    """The tasks whose results a serialized expand input (or part of one) reads."""
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("__xcomarg")
        if isinstance(ref, dict) and "task_id" in ref:
            found.add(ref["task_id"])
        for item in value.values():
            found |= referenced_tasks(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_tasks(item)
    return found


def revise(run: DagRun, task_id: str, length: int, now: datetime) -> int:
    """Make an expanded task's waiting instances match a new length, as Airflow does when a
    cleared upstream pushes another list: instances past the end are removed, missing ones
    created, removed ones inside the length restored. Instances that already started keep
    their state. Returns the rows changed."""
    with transaction.atomic():
        rows = list(
            TaskInstance.objects.select_for_update()
            .filter(dag_run_id=run.pk, task_id=task_id, map_index__gte=0)
            .order_by("map_index")
        )
        if not rows:
            return 0
        changed = TaskInstance.objects.filter(
            dag_run_id=run.pk, task_id=task_id, map_index__gte=length, state__isnull=True
        ).update(state=TIS.REMOVED, end_date=now)
        changed += TaskInstance.objects.filter(
            dag_run_id=run.pk, task_id=task_id, map_index__lt=length, state=TIS.REMOVED
        ).update(state=None, end_date=None)
        existing = {row.map_index for row in rows}
        template = rows[0]
        missing = [index for index in range(length) if index not in existing]
        TaskInstance.objects.bulk_create(
            [
                TaskInstance(
                    dag_run_id=run.pk,
                    dag_id=template.dag_id,
                    run_id=template.run_id,
                    task_id=task_id,
                    map_index=index,
                    state=None,
                    pool=template.pool,
                    pool_slots=template.pool_slots,
                    queue=template.queue,
                    priority_weight=template.priority_weight,
                    operator=template.operator,
                    executor_config=template.executor_config,
                    max_tries=template.max_tries,
                    dag_version_id=template.dag_version_id,
                )
                for index in missing
            ]
        )
    return changed + len(missing)
