"""`/assets…`: assets, their aliases and events, and the events queued for DAGs (Airflow 3's
``core_api/routes/public/assets.py``). Reading needs Viewer; creating an event needs User, and
goes through dagruns/actions/assets.py like every other event."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Prefetch, Q
from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from dagruns.actions import assets as actions
from dagruns.api.rest.auth import actor, require
from dagruns.api.rest.errors import not_found
from dagruns.api.rest.pagination import ListParams, order, page, pattern_filter, range_filter
from dagruns.api.rest.schemas.assets import (
    AssetAliasCollectionResponse,
    AssetAliasResponse,
    AssetCollectionResponse,
    AssetEventCollectionResponse,
    AssetEventResponse,
    AssetResponse,
    CreateAssetEventsBody,
    QueuedEventCollectionResponse,
    QueuedEventResponse,
)
from dagruns.api.rest.schemas.common import DbBigInt, DbInt, UtcDatetime, errors
from dagruns.domain.roles import Role
from dagruns.models import (
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagModel,
    DagRun,
)

router = Router(tags=["Asset"])

ASSET_ORDER = {
    "id": "id",
    "name": "name",
    "uri": "uri",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
ALIAS_ORDER = {"id": "id", "name": "name"}
EVENT_ORDER = {
    "id": "id",
    "source_task_id": "source_task_id",
    "source_dag_id": "source_dag_id",
    "source_run_id": "source_run_id",
    "source_map_index": "source_map_index",
    "timestamp": "timestamp",
}


class AssetFilters(ListParams):
    name_pattern: str | None = None
    uri_pattern: str | None = None
    dag_ids: list[str] = Field(default_factory=list)
    only_active: bool = True


def _active() -> Q:
    """Assets an active DAG schedules on, produces or reads (Airflow's only_active)."""
    return (
        Q(scheduled_dags__dag__is_active=True)
        | Q(producing_tasks__dag__is_active=True)
        | Q(consuming_tasks__dag__is_active=True)
    )


def _assets():
    return AssetModel.objects.prefetch_related(
        "scheduled_dags", "producing_tasks", "consuming_tasks", "aliases"
    ).annotate(last_event_id=Max("events__id"), last_event_at=Max("events__timestamp"))


def present_asset(asset: AssetModel) -> dict[str, Any]:
    last_id = getattr(asset, "last_event_id", None)
    return {
        "id": asset.pk,
        "name": asset.name,
        "uri": asset.uri,
        "group": asset.group,
        "extra": asset.extra,
        "created_at": asset.created_at,
        "updated_at": asset.updated_at,
        "scheduled_dags": [
            {"dag_id": r.dag_id, "created_at": r.created_at, "updated_at": r.updated_at}
            for r in asset.scheduled_dags.all()  # type: ignore[attr-defined]
        ],
        "producing_tasks": [
            {
                "dag_id": r.dag_id,
                "task_id": r.task_id,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in asset.producing_tasks.all()  # type: ignore[attr-defined]
        ],
        "consuming_tasks": [
            {
                "dag_id": r.dag_id,
                "task_id": r.task_id,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in asset.consuming_tasks.all()  # type: ignore[attr-defined]
        ],
        "aliases": [present_alias(a) for a in asset.aliases.all()],  # type: ignore[attr-defined]
        "last_asset_event": (
            {"id": last_id, "timestamp": getattr(asset, "last_event_at", None)}
            if last_id is not None
            else None
        ),
    }


def present_alias(alias: AssetAliasModel) -> dict[str, Any]:
    return {"id": alias.pk, "name": alias.name, "group": alias.group}


def present_event(event: AssetEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "asset_id": event.asset_id,
        "uri": event.asset.uri,
        "name": event.asset.name,
        "group": event.asset.group,
        "extra": event.extra,
        "source_task_id": event.source_task_id or None,
        "source_dag_id": event.source_dag_id or None,
        "source_run_id": event.source_run_id or None,
        "source_map_index": event.source_map_index,
        "created_dagruns": [
            {
                "run_id": run.run_id,
                "dag_id": run.dag_id,
                "logical_date": run.logical_date,
                "start_date": run.start_date,
                "end_date": run.end_date,
                "state": run.state,
                "data_interval_start": run.data_interval_start,
                "data_interval_end": run.data_interval_end,
            }
            for run in event.created_dagruns.all()
        ],
        "timestamp": event.timestamp,
    }


def _events():
    return AssetEvent.objects.select_related("asset").prefetch_related(
        Prefetch("created_dagruns", queryset=DagRun.objects.order_by("run_after"))
    )


@router.get(
    "/assets",
    response={200: AssetCollectionResponse, **errors(400)},
    operation_id="get_assets",
)
def get_assets(request: HttpRequest, params: Query[AssetFilters]):
    require(request, Role.VIEWER)
    rows = AssetModel.objects.filter(
        pattern_filter("name", params.name_pattern, "name_pattern"),
        pattern_filter("uri", params.uri_pattern, "uri_pattern"),
    )
    if params.only_active:
        rows = rows.filter(pk__in=AssetModel.objects.filter(_active()).values("pk"))
    if dag_ids := params.dag_ids:
        rows = rows.filter(
            pk__in=AssetModel.objects.filter(
                Q(scheduled_dags__dag_id__in=dag_ids) | Q(producing_tasks__dag_id__in=dag_ids)
            ).values("pk")
        )
    rows = order(rows, params.order_by, ASSET_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    by_pk = {a.pk: a for a in _assets().filter(pk__in=[a.pk for a in items])}
    return {"assets": [present_asset(by_pk[a.pk]) for a in items], "total_entries": total}


@router.get(
    "/assets/aliases",
    response={200: AssetAliasCollectionResponse, **errors(400)},
    operation_id="get_asset_aliases",
)
def get_asset_aliases(
    request: HttpRequest, params: Query[ListParams], name_pattern: str | None = None
):
    require(request, Role.VIEWER)
    rows = AssetAliasModel.objects.filter(pattern_filter("name", name_pattern, "name_pattern"))
    rows = order(rows, params.order_by, ALIAS_ORDER, default="id")
    items, total = page(rows, params.limit, params.offset)
    return {"asset_aliases": [present_alias(a) for a in items], "total_entries": total}


@router.get(
    "/assets/aliases/{dbid:asset_alias_id}",
    response={200: AssetAliasResponse, **errors(404)},
    operation_id="get_asset_alias",
)
def get_asset_alias(request: HttpRequest, asset_alias_id: int):
    require(request, Role.VIEWER)
    alias = AssetAliasModel.objects.filter(pk=asset_alias_id).first()
    if alias is None:
        raise not_found(f"The Asset Alias with ID: `{asset_alias_id}` was not found")
    return present_alias(alias)


@router.get(
    "/assets/events",
    response={200: AssetEventCollectionResponse, **errors(400)},
    operation_id="get_asset_events",
)
def get_asset_events(
    request: HttpRequest,
    params: Query[ListParams],
    asset_id: DbBigInt | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: DbInt | None = None,
    timestamp_gte: UtcDatetime | None = None,
    timestamp_gt: UtcDatetime | None = None,
    timestamp_lte: UtcDatetime | None = None,
    timestamp_lt: UtcDatetime | None = None,
):
    require(request, Role.VIEWER)
    filters = {
        "asset_id": asset_id,
        "source_dag_id": source_dag_id,
        "source_task_id": source_task_id,
        "source_run_id": source_run_id,
        "source_map_index": source_map_index,
    }
    rows = _events().filter(
        range_filter(
            "timestamp", gte=timestamp_gte, gt=timestamp_gt, lte=timestamp_lte, lt=timestamp_lt
        ),
        **{k: v for k, v in filters.items() if v is not None},
    )
    rows = order(rows, params.order_by, EVENT_ORDER, default="timestamp")
    items, total = page(rows, params.limit, params.offset)
    return {"asset_events": [present_event(e) for e in items], "total_entries": total}


@router.post(
    "/assets/events",
    response={200: AssetEventResponse, **errors(404)},
    operation_id="create_asset_event",
)
def create_asset_event(request: HttpRequest, body: CreateAssetEventsBody):
    """An event for an asset from outside; every DAG scheduled on it is queued."""
    require(request, Role.USER)
    try:
        event = actions.do_create_asset_event(body.asset_id, body.extra, actor(request))
    except actions.AssetEventRefused as exc:
        raise not_found(str(exc)) from None
    return present_event(_events().get(pk=event.pk))


@router.get(
    "/assets/{dbid:asset_id}/queuedEvents",
    response={200: QueuedEventCollectionResponse, **errors(404)},
    operation_id="get_asset_queued_events",
)
def get_asset_queued_events(request: HttpRequest, asset_id: int, before: UtcDatetime | None = None):
    require(request, Role.VIEWER)
    rows = AssetDagRunQueue.objects.filter(asset_id=asset_id)
    return _queued(rows, before, f"Queue event with asset_id: `{asset_id}` was not found")


@router.get(
    "/dags/{dag_id}/assets/queuedEvents",
    response={200: QueuedEventCollectionResponse, **errors(404)},
    operation_id="get_dag_asset_queued_events",
)
def get_dag_asset_queued_events(
    request: HttpRequest, dag_id: str, before: UtcDatetime | None = None
):
    require(request, Role.VIEWER)
    if not DagModel.objects.filter(dag_id=dag_id).exists():
        raise not_found(f"The Dag with ID: `{dag_id}` was not found")
    rows = AssetDagRunQueue.objects.filter(target_dag_id=dag_id)
    return _queued(rows, before, f"Queue event with dag_id: `{dag_id}` was not found")


@router.get(
    "/dags/{dag_id}/assets/{dbid:asset_id}/queuedEvents",
    response={200: QueuedEventResponse, **errors(404)},
    operation_id="get_dag_asset_queued_event",
)
def get_dag_asset_queued_event(
    request: HttpRequest, dag_id: str, asset_id: int, before: UtcDatetime | None = None
):
    require(request, Role.VIEWER)
    rows = AssetDagRunQueue.objects.filter(target_dag_id=dag_id, asset_id=asset_id)
    missing = f"Queued event with dag_id: `{dag_id}` and asset_id: `{asset_id}` was not found"
    return _queued(rows, before, missing)["queued_events"][0]


@router.delete(
    "/assets/{dbid:asset_id}/queuedEvents",
    response={204: None, **errors(404)},
    operation_id="delete_asset_queued_events",
)
def delete_asset_queued_events(
    request: HttpRequest, asset_id: int, before: UtcDatetime | None = None
):
    require(request, Role.USER)
    _delete(
        request,
        f"Queue event with asset_id: `{asset_id}` was not found",
        asset_id=asset_id,
        before=before,
    )
    return Status(204, None)


@router.delete(
    "/dags/{dag_id}/assets/queuedEvents",
    response={204: None, **errors(404)},
    operation_id="delete_dag_asset_queued_events",
)
def delete_dag_asset_queued_events(
    request: HttpRequest, dag_id: str, before: UtcDatetime | None = None
):
    require(request, Role.USER)
    _delete(
        request, f"Queue event with dag_id: `{dag_id}` was not found", dag_id=dag_id, before=before
    )
    return Status(204, None)


@router.delete(
    "/dags/{dag_id}/assets/{dbid:asset_id}/queuedEvents",
    response={204: None, **errors(404)},
    operation_id="delete_dag_asset_queued_event",
)
def delete_dag_asset_queued_event(
    request: HttpRequest, dag_id: str, asset_id: int, before: UtcDatetime | None = None
):
    require(request, Role.USER)
    missing = f"Queued event with dag_id: `{dag_id}` and asset_id: `{asset_id}` was not found"
    _delete(request, missing, dag_id=dag_id, asset_id=asset_id, before=before)
    return Status(204, None)


def _delete(request: HttpRequest, missing: str, **which: Any) -> None:
    if not actions.do_delete_queued_events(actor(request), **which):
        raise not_found(missing)


def _queued(rows, before, missing: str) -> dict[str, Any]:
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    found = list(rows.select_related("target_dag").order_by("created_at", "pk"))
    if not found:
        raise not_found(missing)
    return {
        "queued_events": [
            {
                "dag_id": q.target_dag_id,
                "asset_id": q.asset_id,
                "created_at": q.created_at,
                "dag_display_name": q.target_dag.dag_display_name or q.target_dag_id,
            }
            for q in found
        ],
        "total_entries": len(found),
    }


@router.get(
    "/assets/{dbid:asset_id}",
    response={200: AssetResponse, **errors(404)},
    operation_id="get_asset",
)
def get_asset(request: HttpRequest, asset_id: int):
    require(request, Role.VIEWER)
    asset = _assets().filter(pk=asset_id).first()
    if asset is None:
        raise not_found(f"The Asset with ID: `{asset_id}` was not found")
    return present_asset(asset)
