"""`/assets/`: every asset with its latest event, and one asset's page (its producers,
consumers, aliases and events, newest first)."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404
from django.shortcuts import render

from dagruns.models import AssetEvent, AssetModel, AssetWatcherModel, DagRun
from dagruns.ui.urls import with_query
from dagruns.views.access import viewer_required

ASSET_PAGE = 50
EVENT_PAGE = 25


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


@viewer_required
def asset_list(request):
    q = request.GET.get("q", "").strip()
    assets = AssetModel.objects.annotate(
        last_event_at=Max("events__timestamp"),
        consumer_count=Count("scheduled_dags", distinct=True),
        producer_count=Count("producing_tasks", distinct=True),
    ).order_by("name", "uri")
    if q:
        assets = assets.filter(Q(name__icontains=q) | Q(uri__icontains=q) | Q(group__icontains=q))
    page = Paginator(assets, ASSET_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "nav": "assets"}
    if page.has_previous():
        context["prev_url"] = with_query(request.path, q=q, page=page.previous_page_number())
    if page.has_next():
        context["next_url"] = with_query(request.path, q=q, page=page.next_page_number())
    return render(request, "dagruns/assets.html", context)


@viewer_required
def asset_detail(request, asset_id: int):
    asset = (
        AssetModel.objects.prefetch_related(
            "scheduled_dags",
            "producing_tasks",
            "consuming_tasks",
            "aliases",
            Prefetch("watchers", queryset=AssetWatcherModel.objects.select_related("trigger")),
        )
        .filter(pk=asset_id)
        .first()
    )
    if asset is None:
        raise Http404(f"No asset with id {asset_id}")
    events = (
        AssetEvent.objects.filter(asset=asset)
        .prefetch_related(
            "source_aliases",
            Prefetch("created_dagruns", queryset=DagRun.objects.order_by("run_after")),
        )
        .order_by("-timestamp", "-id")
    )
    page = Paginator(events, EVENT_PAGE).get_page(request.GET.get("page"))
    for event in page.object_list:
        # A display value for the template only (as views/pages.py does for audit extras).
        event.extra_text = _json(event.extra)  # type: ignore[attr-defined]
    context = {
        "asset": asset,
        "asset_extra": _json(asset.extra),
        "page": page,
        "nav": "assets",
        "queued_for": list(
            asset.queued_for.order_by("target_dag_id").values_list("target_dag_id", flat=True)  # type: ignore[attr-defined]
        ),
    }
    if page.has_previous():
        context["prev_url"] = with_query(request.path, page=page.previous_page_number())
    if page.has_next():
        context["next_url"] = with_query(request.path, page=page.next_page_number())
    return render(request, "dagruns/asset.html", context)
