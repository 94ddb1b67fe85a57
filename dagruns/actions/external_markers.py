"""Clearing across DAGs through ExternalTaskMarker (Airflow's `include_dependent_dags`).

A marker in a cleared selection names a task of another DAG (`external_dag_id`,
`external_task_id`) at a logical date (its `logical_date` template, by default the marker's
own run's): that task instance and everything downstream of it in its run are cleared too,
following markers found there in turn. The first marker met sets how many levels may be
followed (`recursion_depth`); going deeper is refused naming the marker, as Airflow does, since
it usually means a cycle of markers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pendulum

from dagruns.actions.tries import find_task, serialized_dag_of
from dagruns.domain.dag_graph import graph_for_version
from dagruns.models import DagRun, TaskInstance
from dagruns.models.states import TI_FAILED_LIKE, TaskInstanceState
from dagruns.sdk import macros
from dagruns.sdk.templating import (
    create_template_env,
    ds,
    ds_nodash,
    render_template,
    ts,
    ts_nodash,
)

MARKER_TYPE = "ExternalTaskMarker"
# The template every marker has unless its author set another: the marker's run's date.
DEFAULT_LOGICAL_DATE = "{{ logical_date.isoformat() }}"


class MarkerError(ValueError):
    """A marker that cannot be followed: too deep, or a logical date that is not one."""


def with_dependent_dags(
    tis: Iterable[TaskInstance], *, only_failed: bool = False, only_running: bool = False
) -> list[TaskInstance]:
    """`tis` and the task instances their ExternalTaskMarkers point to in other DAGs, with
    those instances' downstream tasks, followed recursively (narrowed like the selection
    itself by `only_failed` / `only_running`). Raises MarkerError past the first marker's
    recursion_depth."""
    result = list(tis)
    chosen = {ti.pk for ti in result}
    frontier: list[tuple[TaskInstance, int]] = [(ti, 0) for ti in result]
    visited: set[Any] = set()
    max_depth: int | None = None
    while frontier:
        ti, depth = frontier.pop(0)
        task = find_task(serialized_dag_of(ti), ti.task_id)
        if task is None or task.get("task_type") != MARKER_TYPE or ti.pk in visited:
            continue
        visited.add(ti.pk)
        if max_depth is None:
            max_depth = int((task.get("extra_fields") or {}).get("recursion_depth") or 10)
        if depth + 1 > max_depth:
            raise MarkerError(
                f"Maximum recursion depth {max_depth} reached for ExternalTaskMarker "
                f"{ti.task_id}. Attempted to clear too many tasks or there may be a cyclic "
                "dependency."
            )
        for found in _marked(ti, task, only_failed=only_failed, only_running=only_running):
            if found.pk not in chosen:
                chosen.add(found.pk)
                result.append(found)
                frontier.append((found, depth + 1))
    return result


def _marked(
    ti: TaskInstance, task: dict[str, Any], *, only_failed: bool, only_running: bool
) -> list[TaskInstance]:
    """The marked task's instances at the marker's logical date, and their downstream."""
    values = task.get("template_values") or {}
    external_dag_id, external_task_id = (
        values.get("external_dag_id"),
        values.get("external_task_id"),
    )
    if not external_dag_id or not external_task_id:
        return []
    logical_date = _logical_date(ti, values.get("logical_date"))
    found: list[TaskInstance] = []
    runs = DagRun.objects.filter(dag_id=external_dag_id, logical_date=logical_date)
    for run in runs.only("pk", "dag_version_id"):
        graph = graph_for_version(run.dag_version_id)
        if external_task_id not in graph.tasks:
            continue
        task_ids = {external_task_id} | graph.downstream_closure([external_task_id])
        tis = TaskInstance.objects.filter(dag_run_id=run.pk, task_id__in=task_ids)
        if only_failed:
            tis = tis.filter(state__in=TI_FAILED_LIKE)
        if only_running:
            tis = tis.filter(state=TaskInstanceState.RUNNING)
        found.extend(tis.order_by("task_id", "map_index"))
    return found


def _logical_date(ti: TaskInstance, template: Any) -> datetime:
    """The marker's logical_date: as its try rendered it if it ran in a runner, the marker's
    run's date for the default template, else the template rendered with the run's dates."""
    rendered = (ti.rendered_fields or {}).get("logical_date")
    run = ti.dag_run
    if rendered is None and (template in (None, DEFAULT_LOGICAL_DATE)):
        if run.logical_date is None:
            raise MarkerError(
                f"ExternalTaskMarker {ti.task_id}: its run {run.run_id} has no logical date"
            )
        return run.logical_date
    text = rendered if rendered is not None else _render(ti, run, str(template))
    try:
        parsed = pendulum.parse(str(text), tz="UTC")
    except ValueError as exc:  # pendulum's ParserError is one
        raise MarkerError(
            f"ExternalTaskMarker {ti.task_id}: logical_date {text!r} is not a date: {exc}"
        ) from None
    if not isinstance(parsed, datetime):
        raise MarkerError(f"ExternalTaskMarker {ti.task_id}: logical_date {text!r} is not a date")
    return parsed


def _render(ti: TaskInstance, run: DagRun, template: str) -> Any:
    """The marker's own logical_date template, rendered (sandboxed) with its run's dates."""
    context: dict[str, Any] = {
        "run_id": run.run_id,
        "macros": macros,
        "data_interval_start": _pendulum(run.data_interval_start),
        "data_interval_end": _pendulum(run.data_interval_end),
    }
    if run.logical_date is not None:
        logical = _pendulum(run.logical_date)
        context.update(
            logical_date=logical,
            ds=ds(logical),
            ds_nodash=ds_nodash(logical),
            ts=ts(logical),
            ts_nodash=ts_nodash(logical),
        )
    try:
        return render_template(template, context, create_template_env())
    except Exception as exc:
        raise MarkerError(
            f"ExternalTaskMarker {ti.task_id}: could not render logical_date {template!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def _pendulum(value: datetime | None) -> Any:
    return pendulum.instance(value) if value is not None else None
