"""`/import-errors/` and `/audit/`: what could not be parsed, and who did what."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.shortcuts import render

from dagruns.models import AuditEvent, DagImportError
from dagruns.ui.urls import with_query
from dagruns.views.access import viewer_required

AUDIT_PAGE = 50


@viewer_required
def import_errors(request):
    """Every file that fails to import, or only `?filename=` (the DAG list's flag links here)."""
    errors = DagImportError.objects.order_by("filename")
    filename = request.GET.get("filename", "")
    if filename:
        errors = errors.filter(filename=filename)
    context = {"errors": list(errors), "filename": filename, "nav": "import_errors"}
    return render(request, "dagruns/import_errors.html", context)


@viewer_required
def audit(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("dag_id", "event", "owner", "run_id")}
    events = AuditEvent.objects.all()
    if filters["dag_id"]:
        events = events.filter(dag_id=filters["dag_id"])
    if filters["event"]:
        events = events.filter(event=filters["event"])
    if filters["owner"]:
        events = events.filter(owner__icontains=filters["owner"])
    if filters["run_id"]:
        events = events.filter(run_id=filters["run_id"])
    page = Paginator(events.order_by("-when", "-id"), AUDIT_PAGE).get_page(request.GET.get("page"))
    for event in page.object_list:
        # A display value for the template only (see views/runs.py's duration_text).
        event.extra_text = (  # type: ignore[attr-defined]
            json.dumps(event.extra, ensure_ascii=False, sort_keys=True) if event.extra else ""
        )
    context = {
        "page": page,
        "filters": filters,
        "event_names": list(
            AuditEvent.objects.values_list("event", flat=True).distinct().order_by("event")
        ),
    }
    if page.has_previous():
        context["prev_url"] = with_query(request.path, **filters, page=page.previous_page_number())
    if page.has_next():
        context["next_url"] = with_query(request.path, **filters, page=page.next_page_number())
    return render(request, "dagruns/audit.html", context)
