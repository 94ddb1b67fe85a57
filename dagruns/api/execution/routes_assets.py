"""`/execution/asset-events/…`: the events of an asset or alias, for `inlet_events`; and
`/execution/assets/by-name`: an asset, for an ``@asset`` function's inlet parameters
(Airflow 3's Execution API paths)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from dagruns.api.execution.auth import ApiError, caller_of
from dagruns.api.execution.schemas import AssetEventsOut, AssetOut, ErrorOut
from dagruns.models import AssetEvent, AssetModel

router = Router(tags=["asset-events"])
assets_router = Router(tags=["assets"])

ERRORS = {401: ErrorOut, 403: ErrorOut}


class Narrowing(Schema):
    """Airflow's query parameters of these routes: events after/before a time (inclusive),
    oldest first unless ``ascending=false``, at most ``limit``."""

    after: datetime | None = None
    before: datetime | None = None
    ascending: bool = True
    limit: int | None = Field(default=None, ge=1)


class ByAssetQuery(Narrowing):
    name: str | None = Field(default=None, max_length=1500)
    uri: str | None = Field(default=None, max_length=1500)


class ByAliasQuery(Narrowing):
    name: str = Field(max_length=1500)


def _answer(events: QuerySet[AssetEvent], query: Narrowing) -> dict[str, object]:
    if query.after is not None:
        events = events.filter(timestamp__gte=query.after)
    if query.before is not None:
        events = events.filter(timestamp__lte=query.before)
    order = ("timestamp", "id") if query.ascending else ("-timestamp", "-id")
    events = events.select_related("asset").prefetch_related("source_aliases").order_by(*order)
    if query.limit is not None:
        events = events[: query.limit]
    return {"asset_events": list(events)}


@router.get("/by-asset", response={200: AssetEventsOut, **ERRORS})
def by_asset(request: HttpRequest, query: Query[ByAssetQuery]):
    """The events of the asset with this name and/or URI, oldest first."""
    caller_of(request)
    events = AssetEvent.objects.all()
    if query.name is not None:
        events = events.filter(asset__name=query.name)
    if query.uri is not None:
        events = events.filter(asset__uri=query.uri)
    if query.name is None and query.uri is None:
        events = events.none()
    return _answer(events, query)


@router.get("/by-asset-alias", response={200: AssetEventsOut, **ERRORS})
def by_alias(request: HttpRequest, query: Query[ByAliasQuery]):
    """The events emitted through the alias with this name, oldest first."""
    caller_of(request)
    return _answer(AssetEvent.objects.filter(source_aliases__name=query.name), query)


class ByNameQuery(Schema):
    name: str = Field(max_length=1500)


@assets_router.get("/by-name", response={200: AssetOut, 404: ErrorOut, **ERRORS})
def asset_by_name(request: HttpRequest, query: Query[ByNameQuery]):
    """The asset with this name (the oldest, should several URIs share it)."""
    caller_of(request)
    found = AssetModel.objects.filter(name=query.name).order_by("pk").first()
    if found is None:
        raise ApiError(404, {"reason": "not_found", "message": f"No asset named {query.name!r}"})
    return found
