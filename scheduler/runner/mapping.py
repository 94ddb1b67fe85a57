"""The runner's side of dynamic task mapping.

A mapped task's instance k runs the real operator built from the partial arguments and the
k-th expansion values (only what index k needs is pulled through the Execution API); a task
whose result a mapped task expands over has that result checked before it is pushed
(Airflow's UnmappableXComTypePushed / XComForMappingNotPushed; the length is checked by the
server against ORCH_MAX_MAP_LENGTH).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagruns.sdk.exceptions import (
    AirflowException,
    UnmappableXComTypePushed,
    XComForMappingNotPushed,
)
from dagruns.sdk.expandinput import is_mappable_value
from dagruns.sdk.mappedoperator import MappedOperator, has_mapped_dependants
from dagruns.sdk.templating import render_template

# Airflow's limit on the rendered name of a mapped instance.
MAX_RENDERED_MAP_INDEX = 250


def unmap_for(task: Any, context: Mapping[str, Any], map_index: int) -> Any:
    """The operator instance `map_index` runs: the real one for a mapped task, the task
    itself otherwise (a task in a mapped group resolves its MappedArguments when rendered)."""
    if not isinstance(task, MappedOperator):
        if getattr(task, "is_mapped", False) and map_index < 0:
            raise AirflowException(_needs_index(task))
        return task
    if map_index < 0:
        raise AirflowException(_needs_index(task))
    return task.unmap(task.expand_input.resolve(context, map_index))


def _needs_index(task: Any) -> str:
    return (
        f"Task {task.task_id!r} is mapped: only its instances run (map index 0 or more, "
        "e.g. `tasks test --map-index 0`)"
    )


def mapped_length_of_result(task: Any, value: Any, map_index: int = -1) -> int | None:
    """The item count of a result some mapped task expands over (None: no such task, or
    this task is itself mapped); raises for a result that cannot be mapped over.

    An instance of a mapped task (`map_index` >= 0, `task` already unmapped) is exempt, as in
    Airflow: a task expanding over a mapped task's output maps over its instances, each of
    which may return anything (second-order mapping, `add_10.expand(num=times_2.expand(...))`).
    """
    if map_index >= 0 or getattr(task, "is_mapped", False) or not has_mapped_dependants(task):
        return None
    if value is None or not task.do_xcom_push:
        raise XComForMappingNotPushed()
    if not is_mappable_value(value):
        raise UnmappableXComTypePushed(value)
    return len(value)


def rendered_map_index(task: Any, context: Mapping[str, Any], map_index: int) -> str | None:
    """The instance's map_index_template rendered with the context after the try."""
    template = getattr(task, "map_index_template", None)
    if map_index < 0 or not template:
        return None
    rendered = str(render_template(template, context, task.get_template_env()))
    return rendered[:MAX_RENDERED_MAP_INDEX]
