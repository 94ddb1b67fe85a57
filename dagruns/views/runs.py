"""`/dags/<dag_id>/runs`: the DAG's runs, filtered by state, type and date range, paginated."""

from __future__ import annotations

from datetime import datetime, time

from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dagruns.models import DagCallbackRequest, DagRun
from dagruns.models.states import DAGRUN_ACTIVE, DagRunState, DagRunType
from dagruns.ui import format as fmt
from dagruns.ui.urls import with_query
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region

PAGE_SIZE = 25


def _moment(text: str, end_of_day: bool = False) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    # A plain date first: parse_datetime reads "2024-03-05" as that day's midnight, which
    # would end an `end` filter at the start of its day (the calendar links a day as both).
    day = parse_date(text) if len(text) == 10 else None
    if day is not None:
        value = datetime.combine(day, time.max if end_of_day else time.min)
    else:
        parsed = parse_datetime(text)
        if parsed is None:
            return None
        value = parsed
    if timezone.is_naive(value):
        # A day or time as the viewer reads the table (and the calendar links it): their zone.
        value = timezone.make_aware(value, fmt.viewer_zone())
    return value


@viewer_required
def runs(request, dag_id: str):
    dag = get_dag(dag_id)
    state = request.GET.get("state", "")
    run_type = request.GET.get("run_type", "")
    start = _moment(request.GET.get("start", ""))
    end = _moment(request.GET.get("end", ""), end_of_day=True)
    found = DagRun.objects.filter(dag=dag)
    if state in DagRunState.values:
        found = found.filter(state=state)
    if run_type in DagRunType.values:
        found = found.filter(run_type=run_type)
    if start:
        found = found.filter(run_after__gte=start)
    if end:
        found = found.filter(run_after__lte=end)
    found = found.select_related("triggered_by_ti")
    page = Paginator(found.order_by("-run_after", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    # DAG callbacks asked for by these runs: a link to each run's callback log.
    asked = set(
        DagCallbackRequest.objects.filter(dag_run__in=page.object_list).values_list(
            "dag_run_id", flat=True
        )
    )
    for run in page.object_list:
        run.has_callback_log = run.pk in asked  # type: ignore[attr-defined]
        # A display value for this page's template only, set on the listed row as Django
        # views do; not a model field, so the type checker is told.
        run.duration_text = fmt.duration(  # type: ignore[attr-defined]
            fmt.between(run.start_date, run.end_date or (now if run.start_date else None))
        )
    filters = {
        "state": state,
        "run_type": run_type,
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
    }
    context = dag_context(request, dag, "runs")
    context.update(
        {
            "page": page,
            "filters": filters,
            "states": DagRunState.values,
            "run_types": DagRunType.values,
            "active": any(r.state in DAGRUN_ACTIVE for r in page.object_list),
        }
    )
    if page.has_previous():
        context["prev_url"] = with_query(request.path, **filters, page=page.previous_page_number())
    if page.has_next():
        context["next_url"] = with_query(request.path, **filters, page=page.next_page_number())
    return render_region(request, "dagruns/runs.html", context, {"runs": "dagruns/_runs.html"})
