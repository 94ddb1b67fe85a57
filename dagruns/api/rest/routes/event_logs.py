"""`/importErrors` (DAG files that failed to load) and `/eventLogs` (our audit log)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from dagruns.api.rest import present
from dagruns.api.rest.auth import require
from dagruns.api.rest.errors import not_found
from dagruns.api.rest.pagination import ListParams, order, page, pattern_filter
from dagruns.api.rest.schemas.common import DbInt, UtcDatetime, errors
from dagruns.api.rest.schemas.monitor import (
    EventLogCollectionResponse,
    EventLogResponse,
    ImportErrorCollectionResponse,
    ImportErrorResponse,
)
from dagruns.domain.roles import Role
from dagruns.models import AuditEvent, DagImportError

router = Router()

IMPORT_ERROR_ORDER = {
    "id": "id",
    "import_error_id": "id",
    "timestamp": "timestamp",
    "filename": "filename",
}
EVENT_ORDER = {
    "id": "id",
    "event_log_id": "id",
    "when": "when",
    "dttm": "when",
    "dag_id": "dag_id",
    "task_id": "task_id",
    "run_id": "run_id",
    "event": "event",
    "logical_date": "logical_date",
    "owner": "owner",
    "map_index": "map_index",
    "try_number": "try_number",
}


@router.get(
    "/importErrors",
    response={200: ImportErrorCollectionResponse, **errors(400)},
    tags=["Import Error"],
    operation_id="get_import_errors",
)
def get_import_errors(
    request: HttpRequest,
    params: Query[ListParams],
    filename_pattern: str | None = None,
):
    require(request, Role.VIEWER)
    rows = DagImportError.objects.filter(
        pattern_filter("filename", filename_pattern, "filename_pattern")
    )
    rows = order(rows, params.order_by, IMPORT_ERROR_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    return {"import_errors": [present.import_error(e) for e in items], "total_entries": total}


@router.get(
    "/importErrors/{import_error_id}",
    response={200: ImportErrorResponse, **errors(404)},
    tags=["Import Error"],
    operation_id="get_import_error",
)
def get_import_error(request: HttpRequest, import_error_id: DbInt):
    require(request, Role.VIEWER)
    error = DagImportError.objects.filter(pk=import_error_id).first()
    if error is None:
        raise not_found(f"The ImportError with import_error_id: `{import_error_id}` was not found")
    return present.import_error(error)


class EventFilters(Schema):
    limit: int = Field(50, ge=0)
    offset: int = Field(0, ge=0)
    order_by: list[str] = Field(default_factory=list)
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: DbInt | None = None
    try_number: DbInt | None = None
    owner: str | None = None
    event: str | None = None
    excluded_events: list[str] = Field(default_factory=list)
    included_events: list[str] = Field(default_factory=list)
    before: UtcDatetime | None = None
    after: UtcDatetime | None = None
    dag_id_pattern: str | None = None
    task_id_pattern: str | None = None
    run_id_pattern: str | None = None
    owner_pattern: str | None = None
    event_pattern: str | None = None


@router.get(
    "/eventLogs",
    response={200: EventLogCollectionResponse, **errors(400)},
    tags=["Event Log"],
    operation_id="get_event_logs",
)
def get_event_logs(request: HttpRequest, filters: Query[EventFilters]):
    """The audit log: every mutation made through the UI, this API or the CLI."""
    require(request, Role.VIEWER)
    rows = present.with_dag_display_name(AuditEvent.objects.all())
    for name in ("dag_id", "task_id", "run_id", "map_index", "try_number", "owner", "event"):
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    if filters.excluded_events:
        rows = rows.exclude(event__in=filters.excluded_events)
    if filters.included_events:
        rows = rows.filter(event__in=filters.included_events)
    if filters.before is not None:
        rows = rows.filter(when__lt=filters.before)
    if filters.after is not None:
        rows = rows.filter(when__gt=filters.after)
    for name in ("dag_id", "task_id", "run_id", "owner", "event"):
        rows = rows.filter(
            pattern_filter(name, getattr(filters, f"{name}_pattern"), f"{name}_pattern")
        )
    rows = order(rows, filters.order_by, EVENT_ORDER, default="id")
    items, total = page(rows, filters.limit, filters.offset)
    return {"event_logs": [present.event_log(e) for e in items], "total_entries": total}


@router.get(
    "/eventLogs/{event_log_id}",
    response={200: EventLogResponse, **errors(404)},
    tags=["Event Log"],
    operation_id="get_event_log",
)
def get_event_log(request: HttpRequest, event_log_id: DbInt):
    require(request, Role.VIEWER)
    event = present.with_dag_display_name(AuditEvent.objects.filter(pk=event_log_id)).first()
    if event is None:
        raise not_found(f"The Event with id: `{event_log_id}` not found")
    return present.event_log(event)
