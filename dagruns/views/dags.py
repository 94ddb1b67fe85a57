"""`/`: the DAG list — search, tag and paused/active filters, pause toggles, last runs."""

from __future__ import annotations

from collections import defaultdict

from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from dagruns.domain.roles import Role, has_role
from dagruns.models import DagImportError, DagModel, DagRun, DagRunState, DagTag
from dagruns.ui.urls import ws_url
from dagruns.views.access import viewer_required
from dagruns.views.common import render_region

LAST_RUNS = 10
PAGE_SIZE = 50


@viewer_required
def dag_list(request):
    q = request.GET.get("q", "").strip()
    tag = request.GET.get("tag", "").strip()
    status = request.GET.get("status", "all")
    dags = DagModel.objects.filter(is_active=True)
    if q:
        dags = dags.filter(Q(dag_id__icontains=q) | Q(description__icontains=q))
    if tag:
        dags = dags.filter(tags__name=tag)
    if status == "active":
        dags = dags.filter(is_paused=False)
    elif status == "paused":
        dags = dags.filter(is_paused=True)
    page = Paginator(dags.order_by("dag_id").prefetch_related("tags"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = [d.dag_id for d in page.object_list]
    last_runs: dict[str, list[DagRun]] = defaultdict(list)
    running: dict[str, int] = {}
    if ids:
        ranked = (
            DagRun.objects.filter(dag_id__in=ids)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("dag_id")],
                    order_by=[F("run_after").desc(), F("id").desc()],
                )
            )
            .filter(rank__lte=LAST_RUNS)
            .only("pk", "dag_id", "run_id", "state", "run_after", "run_type")
        )
        for run in ranked:
            last_runs[run.dag_id].append(run)
        running = dict(
            DagRun.objects.filter(dag_id__in=ids, state=DagRunState.RUNNING)
            .values("dag_id")
            .annotate(n=Count("id"))
            .values_list("dag_id", "n")
        )
    rows = [
        {
            "dag": dag,
            "tags": sorted(t.name for t in dag.tags.all()),
            "runs": sorted(last_runs.get(dag.dag_id, []), key=lambda r: (r.run_after, r.pk)),
            "running": running.get(dag.dag_id, 0),
        }
        for dag in page.object_list
    ]
    context = {
        "rows": rows,
        "page": page,
        "q": q,
        "tag": tag,
        "status": status,
        "all_tags": list(DagTag.objects.values_list("name", flat=True).distinct().order_by("name")),
        "import_errors": DagImportError.objects.count(),
        "can_act": has_role(request.user, Role.USER),
        "ws_url": ws_url(None, view="list"),
        "active": any(running.values()),
    }
    return render_region(
        request, "dagruns/dag_list.html", context, {"dag-list": "dagruns/_dag_list.html"}
    )
