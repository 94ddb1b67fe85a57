"""`/dags/<dag_id>/events`: the audit log of one DAG (Airflow's per-DAG event log), narrowed
to one run or task by `?run_id=` / `?task_id=` when opened from their pages."""

from __future__ import annotations

from dagruns.ui import event_log
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region


@viewer_required
def events(request, dag_id: str):
    dag = get_dag(dag_id)
    context = dag_context(request, dag, "events")
    status = 200
    try:
        filters = event_log.parse_filters(request.GET, dag_id=dag.dag_id)
        context.update(event_log.page_context(request.path, request.GET, filters, dag_page=True))
    except event_log.BadFilter as exc:
        context.update({"filters": event_log.EventFilters(dag_id=dag.dag_id), "error": str(exc)})
        status = 400
    response = render_region(request, "dagruns/events.html", context, {})
    response.status_code = status
    return response
