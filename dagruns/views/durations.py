"""`/dags/<dag_id>/durations`: run durations over the last N runs (queued and running parts,
coloured by state) and one task's durations across those runs, with every task's summary."""

from __future__ import annotations

from django.utils import timezone

from dagruns.ui.durations import DEFAULT_RUNS, MAX_RUNS, build_durations
from dagruns.ui.query_params import BadParam, int_param
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region

RUN_CHOICES = (14, 25, 50, 100)


@viewer_required
def durations(request, dag_id: str):
    dag = get_dag(dag_id)
    context = dag_context(request, dag, "durations")
    context["run_choices"] = RUN_CHOICES
    status = 200
    try:
        limit = int_param(request.GET, "runs", DEFAULT_RUNS, 1, MAX_RUNS)
        task_id = (request.GET.get("task_id") or "").strip()
        context.update(
            {"limit": limit, "data": build_durations(dag, limit, task_id, timezone.now())}
        )
    except (BadParam, LookupError) as exc:
        context.update({"limit": DEFAULT_RUNS, "error": str(exc)})
        status = 400
    response = render_region(
        request, "dagruns/durations.html", context, {"durations": "dagruns/_durations.html"}
    )
    response.status_code = status
    return response
