"""`/dags/<dag_id>/calendar?year=`: the DAG's runs as a year of days (see ui/calendar.py)."""

from __future__ import annotations

from django.utils import timezone

from dagruns.ui import format as fmt
from dagruns.ui.calendar import MAX_PLANNED_RUNS, build_calendar
from dagruns.ui.query_params import BadParam, int_param
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region

FIRST_YEAR = 1970
LAST_YEAR = 9998  # the page links to the next year


@viewer_required
def calendar(request, dag_id: str):
    dag = get_dag(dag_id)
    now = timezone.now()
    context = dag_context(request, dag, "calendar")
    context["max_planned"] = MAX_PLANNED_RUNS
    status = 200
    try:
        year = int_param(request.GET, "year", timezone.localtime(now).year, FIRST_YEAR, LAST_YEAR)
        context["calendar"] = build_calendar(dag, year, now, fmt.viewer_zone())
    except BadParam as exc:
        context["error"] = str(exc)
        status = 400
    response = render_region(
        request, "dagruns/calendar.html", context, {"calendar": "dagruns/_calendar.html"}
    )
    response.status_code = status
    return response
