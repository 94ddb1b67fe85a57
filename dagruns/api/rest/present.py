"""Model rows as Airflow-shaped response dicts.

Callers load the related rows these functions touch with `select_related` (the routes'
`*_queryset()` helpers), so presenting a page of any size costs no further query.

Fields Airflow has and we keep no data for get Airflow's default (mostly null).
`dag_display_name` is the DAG's own (`dag_display_name=` in the DAG file, kept on its DagModel
row), read in the same query by `with_dag_display_name` on every row that is not a DagModel (a
row whose DAG is gone falls back to its dag_id). `task_display_name` is the task's own
(`task_display_name=` in the DAG file, kept on the task instance row), else the task_id. XCom
rows carry it when their queryset annotates it (`with_task_display_name`).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.core import signing
from django.db.models import Model, OuterRef, QuerySet, Subquery
from pydantic import TypeAdapter

from dagruns.actions.connections import connection_fields
from dagruns.domain.assets import schedule_condition
from dagruns.domain.crypto import DecryptionError
from dagruns.domain.masking import masked
from dagruns.models import (
    AuditEvent,
    Connection,
    DagImportError,
    DagModel,
    DagRun,
    DagVersion,
    TaskInstance,
    TaskInstanceHistory,
    Trigger,
    Variable,
    XCom,
)
from dagruns.sdk.triggers.serde import decode_kwargs

FILE_TOKEN_SALT = "orchestrator.rest.file_token"
_NOT_PERIODIC = {"None", "@once", "NullTimetable", "OnceTimetable"}
_DURATION = TypeAdapter(timedelta)
_Row = TypeVar("_Row", bound=Model)


def with_dag_display_name(rows: QuerySet[_Row]) -> QuerySet[_Row]:
    """Rows (anything with a `dag_id`) annotated with their DAG's display name, in the same
    query: Airflow keeps `dag_id` and `dag_display_name` apart in every response."""
    names = DagModel.objects.filter(dag_id=OuterRef("dag_id")).values("dag_display_name")[:1]
    return cast("QuerySet[_Row]", rows.annotate(dag_display_name=Subquery(names)))


def _dag_display_name(row: Any) -> str:
    """The annotation of `with_dag_display_name` (required: an AttributeError here means a
    route forgot it), else the dag_id when the DAG row is gone."""
    return row.dag_display_name or row.dag_id


def version_uuid(pk: int) -> uuid.UUID:
    return uuid.UUID(int=pk)


def dag_version(version: DagVersion | None, dag_display_name: str) -> dict[str, Any] | None:
    """`dag_display_name`: the display name of the version's DAG (the caller has it)."""
    if version is None:
        return None
    return {
        "id": version_uuid(version.pk),
        "version_number": version.version_number,
        "dag_id": version.dag_id,
        "created_at": version.created_at,
        "dag_display_name": dag_display_name,
    }


def file_token(fileloc: str) -> str:
    """Airflow signs the file location so a client can refer to a DAG's file without seeing
    more than it may; ours is signed with SECRET_KEY under a salt of its own."""
    return signing.dumps(fileloc, salt=FILE_TOKEN_SALT, compress=True)


def dag(model: DagModel) -> dict[str, Any]:
    """`model.tags` must be prefetched."""
    tags = sorted(model.tags.all(), key=lambda t: t.name)
    display_name = model.dag_display_name or model.dag_id
    return {
        "dag_id": model.dag_id,
        "dag_display_name": display_name,
        "is_paused": model.is_paused,
        "is_stale": not model.is_active,
        "last_parsed_time": model.last_parsed_time,
        "relative_fileloc": model.relative_fileloc or None,
        "fileloc": model.fileloc,
        "description": model.description or None,
        "timetable_summary": model.timetable_summary or None,
        "timetable_description": model.timetable_description or None,
        "timetable_periodic": bool(model.timetable_summary)
        and model.timetable_summary not in _NOT_PERIODIC,
        "tags": [
            {"name": t.name, "dag_id": model.dag_id, "dag_display_name": display_name} for t in tags
        ],
        "max_active_tasks": model.max_active_tasks,
        "max_active_runs": model.max_active_runs,
        # Not kept on the DAG row; the details endpoint reads it from the serialized DAG.
        "max_consecutive_failed_dag_runs": 0,
        "has_task_concurrency_limits": False,
        "has_import_errors": model.has_import_errors,
        "next_dagrun_logical_date": model.next_dagrun,
        "next_dagrun_data_interval_start": model.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": model.next_dagrun_data_interval_end,
        "next_dagrun_run_after": model.next_dagrun_create_after,
        "owners": [o.strip() for o in model.owners.split(",") if o.strip()],
        # There is no backfill API here.
        "is_backfillable": False,
        "file_token": file_token(model.fileloc),
    }


def dag_details(model: DagModel, version: DagVersion | None, active_runs: int) -> dict[str, Any]:
    data = dag(model)
    serialized: dict[str, Any] = version.serialized if version is not None else {}
    tasks = serialized.get("tasks") or []
    timeout = serialized.get("dagrun_timeout")
    data.update(
        {
            "max_consecutive_failed_dag_runs": serialized.get("max_consecutive_failed_dag_runs")
            or 0,
            "has_task_concurrency_limits": any(
                t.get("max_active_tis_per_dag") is not None
                or t.get("max_active_tis_per_dagrun") is not None
                for t in tasks
            ),
            "catchup": bool(serialized.get("catchup", False)),
            "dag_run_timeout": _DURATION.dump_python(timedelta(seconds=timeout), mode="json")
            if isinstance(timeout, int | float)
            else None,
            "doc_md": serialized.get("doc_md"),
            "asset_expression": _asset_expression(serialized),
            "start_date": _parse(serialized.get("start_date")),
            "end_date": _parse(serialized.get("end_date")),
            "is_paused_upon_creation": serialized.get("is_paused_upon_creation"),
            "params": serialized.get("params") or {},
            "render_template_as_native_obj": bool(
                serialized.get("render_template_as_native_obj", False)
            ),
            "template_search_path": serialized.get("template_searchpath") or None,
            "timezone": serialized.get("timezone"),
            "last_parsed": model.last_parsed_time,
            "default_args": serialized.get("default_args") or {},
            "owner_links": serialized.get("owner_links") or {},
            "active_runs_count": active_runs,
            "latest_dag_version": dag_version(version, data["dag_display_name"]),
            "concurrency": model.max_active_tasks,
        }
    )
    return data


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def dag_run(run: DagRun) -> dict[str, Any]:
    """`run.dag_version` must be selected, the run annotated by `with_dag_display_name`."""
    duration = None
    if run.start_date and run.end_date:
        duration = (run.end_date - run.start_date).total_seconds()
    display_name = _dag_display_name(run)
    version = dag_version(run.dag_version, display_name) if run.dag_version_id else None
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "logical_date": run.logical_date,
        "queued_at": run.queued_at,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "duration": duration,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "run_after": run.run_after,
        "last_scheduling_decision": run.last_scheduling_decision,
        "run_type": run.run_type,
        "state": run.state,
        "triggered_by": run.triggered_by or None,
        "triggering_user_name": run.triggering_user_name or None,
        "conf": run.conf,
        "note": masked(run.note) or None,
        "dag_versions": [version] if version else [],
        "dag_display_name": display_name,
    }


def _try_fields(ti: TaskInstance | TaskInstanceHistory) -> dict[str, Any]:
    """`ti` annotated by `with_dag_display_name`."""
    display_name = _dag_display_name(ti)
    return {
        "task_id": ti.task_id,
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "map_index": ti.map_index,
        "start_date": ti.start_date,
        "end_date": ti.end_date,
        "duration": ti.duration,
        "state": ti.state,
        "try_number": ti.try_number,
        "max_tries": ti.max_tries,
        "task_display_name": ti.task_display_name or ti.task_id,
        "dag_display_name": display_name,
        "hostname": ti.hostname,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "operator": ti.operator or None,
        "operator_name": ti.operator or None,
        "queued_when": ti.queued_dttm,
        "scheduled_when": ti.scheduled_dttm,
        "pid": ti.pid,
        "executor": ti.executor or None,
        # Airflow returns the Python text of the dict here, not JSON.
        "executor_config": str(ti.executor_config),
        "dag_version": dag_version(ti.dag_version, display_name) if ti.dag_version_id else None,
    }


def task_instance(ti: TaskInstance) -> dict[str, Any]:
    """`ti.dag_run` and `ti.dag_version` must be selected."""
    data = _try_fields(ti)
    data.update(
        {
            "id": ti.id,
            "logical_date": ti.dag_run.logical_date,
            "run_after": ti.dag_run.run_after,
            # What tasks and people wrote goes out through the server's secrets masker.
            "note": masked(ti.note) or None,
            "rendered_map_index": masked(ti.rendered_map_index) or None,
            "rendered_fields": masked(ti.rendered_fields or {}),
            "trigger": trigger_response(ti.trigger) if ti.trigger is not None else None,
        }
    )
    return data


def trigger_response(row: Trigger) -> dict[str, Any]:
    """Airflow's TriggerResponse; the kwargs as the text of their Python values, masked."""
    try:
        kwargs = _python_text(masked(decode_kwargs(row.kwargs)))
    except DecryptionError as exc:
        kwargs = f"<{exc}>"
    return {
        "id": row.pk,
        "classpath": row.classpath,
        "kwargs": kwargs,
        "created_date": row.created_date,
        "triggerer_id": row.triggerer_id,
    }


def task_instance_try(ti: TaskInstance | TaskInstanceHistory) -> dict[str, Any]:
    return _try_fields(ti)


def with_task_display_name(entries: QuerySet[XCom]) -> QuerySet[XCom]:
    """XComs annotated with their task instance's display name (in the same query)."""
    names = TaskInstance.objects.filter(
        dag_run=OuterRef("dag_run"), task_id=OuterRef("task_id"), map_index=OuterRef("map_index")
    ).values("task_display_name")[:1]
    return entries.annotate(task_display_name=Subquery(names))


def xcom(entry: XCom, with_value: bool = False, stringify: bool = False) -> dict[str, Any]:
    """`entry.dag_run` must be selected, the entry annotated by `with_dag_display_name`."""
    data: dict[str, Any] = {
        "key": entry.key,
        "timestamp": entry.timestamp,
        "logical_date": entry.dag_run.logical_date,
        "map_index": entry.map_index,
        "task_id": entry.task_id,
        "dag_id": entry.dag_id,
        "run_id": entry.run_id,
        "dag_display_name": _dag_display_name(entry),
        "task_display_name": getattr(entry, "task_display_name", None) or entry.task_id,
        "run_after": entry.dag_run.run_after,
    }
    if with_value:
        # Decrypted here only to be shown masked: the clear value goes to tasks alone.
        value = masked(entry.value)
        if stringify:
            data["value"] = None if value is None else _python_text(value)
        else:
            data["value"] = value
    return data


def _python_text(value: Any) -> str:
    # Airflow's `stringify=true` is str() of the deserialized Python value.
    return value if isinstance(value, str) else str(value)


def variable(var: Variable) -> dict[str, Any]:
    """Values of variables whose key looks secret are masked, as Airflow's API masks them."""
    return {
        "key": var.key,
        "value": var.display_value(),
        "description": var.description or None,
        "is_encrypted": True,
    }


def connection(conn: Connection) -> dict[str, Any]:
    """Airflow's ConnectionResponse: the password is write-only (always null), the extra
    masked by the one rule in dagruns/actions/connections.py."""
    fields = connection_fields(conn, secrets="hidden")
    return {"connection_id": fields.pop("conn_id"), **fields}


def pool(row: Any, usage: dict[str, int]) -> dict[str, Any]:
    running = usage.get("running", 0)
    queued = usage.get("queued", 0)
    scheduled = usage.get("scheduled", 0)
    deferred = usage.get("deferred", 0)
    occupied = running + queued + (deferred if row.include_deferred else 0)
    return {
        "name": row.name,
        "slots": row.slots,
        "description": row.description or None,
        "include_deferred": row.include_deferred,
        "occupied_slots": occupied,
        "running_slots": running,
        "queued_slots": queued,
        "scheduled_slots": scheduled,
        "deferred_slots": deferred,
        "open_slots": -1 if row.slots == -1 else row.slots - occupied,
    }


def import_error(error: DagImportError) -> dict[str, Any]:
    return {
        "import_error_id": error.pk,
        "timestamp": error.timestamp,
        "filename": error.filename,
        "stack_trace": error.stack_trace,
    }


def event_log(event: AuditEvent) -> dict[str, Any]:
    """`event` annotated by `with_dag_display_name` (null for an event of no DAG, as
    Airflow's)."""
    return {
        "event_log_id": event.pk,
        "when": event.when,
        "dag_id": event.dag_id or None,
        "task_id": event.task_id or None,
        "run_id": event.run_id or None,
        "map_index": event.map_index,
        "try_number": event.try_number,
        "event": event.event,
        "logical_date": event.logical_date,
        "owner": event.owner or None,
        "extra": json.dumps(event.extra, ensure_ascii=False, default=str) if event.extra else None,
        "dag_display_name": _dag_display_name(event) if event.dag_id else None,
        "task_display_name": event.task_id or None,
    }


def _asset_expression(serialized: dict[str, Any]) -> dict[str, Any] | None:
    """Airflow's display form of the DAG's asset schedule (None for other schedules)."""
    condition = schedule_condition(serialized)
    return condition.as_expression() if condition is not None else None
