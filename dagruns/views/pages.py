"""`/import-errors/` and `/audit/`: what could not be parsed, and who did what."""

from __future__ import annotations

from django.shortcuts import render

from dagruns.models import DagImportError
from dagruns.ui import event_log
from dagruns.views.access import viewer_required


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
    try:
        filters = event_log.parse_filters(request.GET)
    except event_log.BadFilter as exc:
        context = {"filters": event_log.EventFilters(), "error": str(exc), "nav": "audit"}
        return render(request, "dagruns/audit.html", context, status=400)
    context = event_log.page_context(request.path, request.GET, filters)
    context["nav"] = "audit"
    return render(request, "dagruns/audit.html", context)
