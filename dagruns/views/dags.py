"""`/`: the DAG list — search as you type, last-run-state, paused/active, tags (any or all)
and favourite filters, sorting, stars, pause toggles, last runs with dates and durations.
The query lives in dagruns/ui/dag_list.py; this view reads the URL and renders."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dagruns.actions.audit import Actor
from dagruns.actions.favorites import do_set_favorite
from dagruns.domain.roles import Role, has_role
from dagruns.models import DagImportError, DagTag
from dagruns.models.states import DagRunState
from dagruns.ui import dag_list as list_query
from dagruns.ui.urls import ws_url
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import render_region

PAGE_SIZE = 50


@viewer_required
def dag_list(request):
    try:
        query = list_query.ListQuery.parse(request.GET)
    except list_query.BadListQuery as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    page = Paginator(list_query.dags_for(query, request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list_query.rows_for(list(page.object_list))
    sort_links, aria_sort = list_query.header_links(query)
    context = {
        "nav": "dags",
        "rows": rows,
        "page": page,
        "query": query,
        "sort_labels": list_query.SORT_LABELS,
        "sort_label": list_query.SORT_LABELS[query.sort],
        "sort_links": sort_links,
        "aria_sort": aria_sort,
        "status_choices": [("all", "All"), ("active", "Active"), ("paused", "Paused")],
        "previous_url": query.url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": query.url(page=page.next_page_number()) if page.has_next() else "",
        "run_states": [s.value for s in DagRunState],
        "all_tags": list(DagTag.objects.values_list("name", flat=True).distinct().order_by("name")),
        "import_errors": DagImportError.objects.count(),
        "can_act": has_role(request.user, Role.USER),
        "ws_url": ws_url(None, view="list"),
        "active": any(row.running for row in rows),
    }
    response = render_region(
        request, "dagruns/dag_list.html", context, {"dag-list": "dagruns/_dag_list.html"}
    )
    if getattr(request, "htmx", False) and request.htmx.trigger == "dag-filters":
        # The filter form sends every control, defaults too: the address bar gets the short
        # form of the same query (what a link to this list looks like).
        response["HX-Push-Url"] = reverse("ui:dags") + query.url().rstrip("?")
    return response


@viewer_required
@require_POST
def favorite(request, dag_id: str):
    """Star or unstar a DAG for the signed-in user (`favorite=true|false`). htmx gets the new
    star (swapped in place); a plain form goes back to the list."""
    dag = get_dag(dag_id)
    wanted = request.POST.get("favorite", "")
    if wanted not in ("true", "false"):
        return HttpResponseBadRequest(
            f"favorite must be true or false, not {wanted!r}", content_type="text/plain"
        )
    do_set_favorite(dag.dag_id, wanted == "true", Actor(user=request.user))
    if getattr(request, "htmx", False):
        dag.is_favorite = wanted == "true"  # type: ignore[attr-defined]
        return render(request, "dagruns/_favorite_star.html", {"dag": dag})
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else "ui:dags")
