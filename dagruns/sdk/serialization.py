"""The JSON form of a DAG: what the processor stores and the scheduler, API and UI read.

``serialize_dag`` emits plain JSON types only (datetimes as ISO-8601 with offset,
durations as float seconds, callables as their qualified names). ``deserialize_dag``
rebuilds a DAG of ``SerializedOperator`` tasks with the same ids, edges, groups and params,
and ``serialize_dag(deserialize_dag(data)) == data`` for any serialized DAG.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from .baseoperator import BaseOperator
from .dag import DAG
from .exceptions import AirflowException
from .expandinput import MappedArgument
from .k8s_objects import is_k8s_object, serialize_k8s_object
from .mappedoperator import MappedOperator
from .params import DagParam, Param, ParamsDict
from .schedule import schedule_from_serialized
from .serialized_operator import SerializedOperator, serialized_callback
from .start_trigger import serialize_start_from_trigger
from .taskgroup import TaskGroup
from .timeutil import isoformat, parse_isoformat, parse_timezone, timezone_name
from .xcom_arg import XComArg

SERIALIZATION_VERSION = 1


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data; idempotent, and deterministic for the same input
    (no memory addresses), so the structure hash only changes when the DAG does."""
    if isinstance(value, Enum):
        return json_safe(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, XComArg | MappedArgument):
        return value.serialize()
    if isinstance(value, DagParam):
        return {"__dagparam": {"name": value.name}}
    if isinstance(value, ParamsDict):
        return serialize_params(value)
    if isinstance(value, Param):
        return json_safe(value.serialize())
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(
            (json_safe(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True)
        )
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, BaseOperator):
        return {"__task": value.task_id}
    if is_k8s_object(value):  # executor_config's pod_override (a kubernetes V1Pod)
        return serialize_k8s_object(value)
    qualname = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(qualname, str):
        return f"{getattr(value, '__module__', None) or '?'}.{qualname}"
    if type(value).__repr__ is object.__repr__:
        return f"<{type(value).__module__}.{type(value).__qualname__}>"
    return repr(value)


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _timedelta(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


def serialize_params(params: ParamsDict) -> dict[str, dict[str, Any]]:
    return {name: json_safe(param.serialize()) for name, param in params.items()}


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The JSON form of ``dag``; raises AirflowDagCycleException for a cyclic graph."""
    tasks = dag.topological_sort()
    data = {
        "__version": SERIALIZATION_VERSION,
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_display_name,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "doc_md": dag.get_doc_md(),
        "schedule": dag.timetable.serialize(),
        "timezone": timezone_name(dag.timezone),
        "start_date": isoformat(dag.start_date),
        "end_date": isoformat(dag.end_date),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
        "dagrun_timeout": _seconds(dag.dagrun_timeout),
        "default_args": json_safe(dag.default_args),
        "params": serialize_params(dag.params),
        "tags": sorted(dag.tags),
        "owner": dag.owner,
        "owner_links": json_safe(dag.owner_links),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "fail_fast": dag.fail_fast,
        "render_template_as_native_obj": dag.render_template_as_native_obj,
        "template_searchpath": list(dag.template_searchpath),
        "has_on_success_callback": bool(dag.on_success_callback),
        "has_on_failure_callback": bool(dag.on_failure_callback),
        "tasks": [serialize_task(task) for task in tasks],
        "edges": sorted(
            [task.task_id, down] for task in tasks for down in task.downstream_task_ids
        ),
        "task_group": serialize_task_group(dag.task_group),
    }
    edge_info = serialize_edge_info(dag)
    if edge_info:  # only when labelled, so unlabelled DAGs keep their structure hash
        data["edge_info"] = edge_info
    return data


def serialize_edge_info(dag: DAG) -> dict[str, dict[str, Any]]:
    """Airflow's ``edge_info`` (``{upstream: {downstream: {"label": ...}}}``) for the edges
    that exist; info on a pair that is no edge is dropped."""
    return {
        up: {
            down: json_safe(info)
            for down, info in sorted(downs.items())
            if up in dag.task_dict and down in dag.task_dict[up].downstream_task_ids
        }
        for up, downs in sorted(dag.edge_info.items())
        if any(up in dag.task_dict and d in dag.task_dict[up].downstream_task_ids for d in downs)
    }


def serialize_task(task: BaseOperator) -> dict[str, Any]:
    data = _serialize_task(task)
    if task.task_display_name != task.task_id:  # only when set: older DAGs keep their hash
        data["task_display_name"] = task.task_display_name
    for argument in ("inlets", "outlets"):  # only when set, for the same reason
        assets = getattr(task, argument, None)
        if assets:
            data[argument] = [item.encode() for item in assets]
    return data


def _serialize_task(task: BaseOperator) -> dict[str, Any]:
    if isinstance(task, SerializedOperator):
        template_values = json_safe(task.template_values)
    elif isinstance(task, MappedOperator):
        template_values = json_safe(task.template_values())
    else:
        template_values = {
            field: json_safe(getattr(task, field, None)) for field in task.template_fields
        }
    mapped_group = task.mapped_task_group
    data = {
        "task_id": task.task_id,
        "task_type": task.task_type,
        "operator_module": task.operator_module,
        "custom_operator_name": task.custom_operator_name,
        "label": task.label,
        "task_group_id": task.task_group.group_id if task.task_group else None,
        "ui_color": task.ui_color,
        "ui_fgcolor": task.ui_fgcolor,
        "template_fields": list(task.template_fields),
        "template_ext": list(task.template_ext),
        "template_fields_renderers": dict(task.template_fields_renderers),
        "template_values": template_values,
        "trigger_rule": task.trigger_rule.value,
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "depends_on_past": task.depends_on_past,
        "wait_for_downstream": task.wait_for_downstream,
        "ignore_first_depends_on_past": task.ignore_first_depends_on_past,
        "start_date": isoformat(task.start_date),
        "end_date": isoformat(task.end_date),
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": task.priority_weight,
        "priority_weight_total": task.priority_weight_total,
        "weight_rule": task.weight_rule.value,
        "queue": task.queue,
        "max_active_tis_per_dag": task.max_active_tis_per_dag,
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
        "executor": task.executor,
        "executor_config": json_safe(task.executor_config),
        "params": serialize_params(task.params),
        "doc_md": task.doc_md,
        "owner": task.owner,
        "email": json_safe(task.email),
        "email_on_failure": task.email_on_failure,
        "email_on_retry": task.email_on_retry,
        "do_xcom_push": task.do_xcom_push,
        "multiple_outputs": task.multiple_outputs,
        "is_setup": task.is_setup,
        "is_teardown": task.is_teardown,
        "on_failure_fail_dagrun": task.on_failure_fail_dagrun,
        "inherits_from_empty_operator": task.inherits_from_empty_operator,
        "is_branch": task.is_branch,
        "is_short_circuit": task.is_short_circuit,
        "ignore_downstream_trigger_rules": task.ignore_downstream_trigger_rules,
        "has_on_execute_callback": task.has_on_execute_callback,
        "has_on_success_callback": task.has_on_success_callback,
        "has_on_failure_callback": task.has_on_failure_callback,
        "has_on_retry_callback": task.has_on_retry_callback,
        "upstream_task_ids": sorted(task.upstream_task_ids),
        "downstream_task_ids": sorted(task.downstream_task_ids),
        # Dynamic task mapping: whether the task runs as map-indexed instances, what it
        # expands over itself (None: only through its mapped group), and that group.
        "is_mapped": task.is_mapped,
        "expand_input": task.serialize_expand_input(),
        "mapped_task_group_id": mapped_group.group_id if mapped_group is not None else None,
        "map_index_template": task.map_index_template,
    }
    extra = _extra_fields(task)
    if extra:  # only operators that declare some: every other task's form is unchanged
        data["extra_fields"] = extra
    # Only a task that starts from the triggerer: every other task's form is unchanged.
    if isinstance(task, SerializedOperator):
        data.update(task.start_from_trigger_data)
    else:
        data.update(serialize_start_from_trigger(task))
    return data


def _extra_fields(task: BaseOperator) -> dict[str, Any]:
    """Attributes an operator class lists in `serialized_extra_fields` for the server (an
    ExternalTaskMarker's recursion_depth, read when a clear follows it)."""
    if isinstance(task, SerializedOperator):
        return dict(task.extra_fields)
    names = getattr(task, "serialized_extra_fields", ())
    return {name: json_safe(getattr(task, name, None)) for name in names}


def serialize_task_group(group: TaskGroup) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "label": group.label,
        "tooltip": group.tooltip,
        "ui_color": group.ui_color,
        "ui_fgcolor": group.ui_fgcolor,
        "prefix_group_id": group.prefix_group_id,
        "is_mapped": group.is_mapped,
        "expand_input": group.serialize_expand_input(),
        "children": [
            serialize_task_group(child) if isinstance(child, TaskGroup) else child.task_id
            for child in group.children.values()
        ],
    }


def dag_structure_hash(data: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a serialized DAG, ignoring where the file lives."""
    canonical = {key: value for key, value in data.items() if key != "fileloc"}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def deserialize_dag(data: Mapping[str, Any]) -> DAG:
    """Rebuild a DAG from ``serialize_dag`` output (tasks become SerializedOperators)."""
    version = data.get("__version")
    if version != SERIALIZATION_VERSION:
        raise AirflowException(
            f"Cannot read serialized DAG version {version!r}; this code reads version {SERIALIZATION_VERSION}"
        )
    dag = DAG(
        data["dag_id"],
        description=data.get("description"),
        schedule=schedule_from_serialized(data.get("schedule")),
        start_date=parse_isoformat(data.get("start_date")),
        end_date=parse_isoformat(data.get("end_date")),
        catchup=data.get("catchup", False),
        max_active_runs=data.get("max_active_runs", 16),
        max_active_tasks=data.get("max_active_tasks", 16),
        max_consecutive_failed_dag_runs=data.get("max_consecutive_failed_dag_runs", 0),
        dagrun_timeout=_timedelta(data.get("dagrun_timeout")),
        params=ParamsDict.deserialize(data.get("params") or {}),
        tags=data.get("tags") or [],
        owner_links=data.get("owner_links") or {},
        is_paused_upon_creation=data.get("is_paused_upon_creation"),
        fail_fast=data.get("fail_fast", False),
        dag_display_name=data.get("dag_display_name"),
        render_template_as_native_obj=data.get("render_template_as_native_obj", False),
        template_searchpath=data.get("template_searchpath") or [],
        on_success_callback=serialized_callback if data.get("has_on_success_callback") else None,
        on_failure_callback=serialized_callback if data.get("has_on_failure_callback") else None,
        fileloc=data.get("fileloc") or "",
        auto_register=False,
    )
    dag.timezone = parse_timezone(data.get("timezone") or "UTC")
    dag.doc_md = data.get("doc_md")
    dag.doc_md_is_loaded = True  # already the file's content, never a path to load again
    tasks = {task_data["task_id"]: task_data for task_data in data.get("tasks", [])}
    root_data = data.get("task_group") or {"children": list(tasks)}
    _apply_group_attributes(dag.task_group, root_data)
    _build_group(dag, dag.task_group, root_data, tasks)
    for task_id in tasks.keys() - dag.task_dict.keys():  # not listed in any group
        SerializedOperator.from_serialized(tasks[task_id], dag=dag, task_group=dag.task_group)
    for upstream_id, downstream_id in data.get("edges", []):
        dag.get_task(upstream_id).downstream_task_ids.add(downstream_id)
        dag.get_task(downstream_id).upstream_task_ids.add(upstream_id)
    for up, downs in (data.get("edge_info") or {}).items():
        for down, info in downs.items():
            dag.set_edge_info(up, down, info)
    # Set last: applied while the tasks were built, it would override their own values.
    dag.default_args = dict(data.get("default_args") or {})
    return dag


def _apply_group_attributes(group: TaskGroup, data: Mapping[str, Any]) -> None:
    group.tooltip = data.get("tooltip", "")
    group.ui_color = data.get("ui_color", "CornflowerBlue")
    group.ui_fgcolor = data.get("ui_fgcolor", "#000")
    group.prefix_group_id = data.get("prefix_group_id", True)
    if data.get("is_mapped"):
        # The expansion stays in its JSON form: only the scheduler and the views read it.
        group.is_mapped = True
        group.serialize_expand_input = lambda: data.get("expand_input")  # type: ignore[method-assign]


def _build_group(
    dag: DAG, group: TaskGroup, data: Mapping[str, Any], tasks: Mapping[str, Any]
) -> None:
    # Children are rebuilt in their original order so the group tree serializes identically.
    for child in data.get("children", []):
        if isinstance(child, str):
            SerializedOperator.from_serialized(tasks[child], dag=dag, task_group=group)
            continue
        subgroup = TaskGroup(child["label"], parent_group=group, dag=dag)
        _apply_group_attributes(subgroup, child)
        _build_group(dag, subgroup, child, tasks)
