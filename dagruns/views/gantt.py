"""`/dags/<dag_id>/gantt`: one bar per task of the selected run, the critical path marked."""

from __future__ import annotations

from dagruns.ui.gantt import build_gantt
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, recent_runs, render_region, selected_run


@viewer_required
def gantt(request, dag_id: str):
    dag = get_dag(dag_id)
    runs = recent_runs(dag.dag_id)
    run = selected_run(request, runs, dag.dag_id)
    context = dag_context(request, dag, "gantt", run_id=request.GET.get("run_id", ""))
    context.update({"runs": runs, "run": run, "explicit_run": bool(request.GET.get("run_id"))})
    if run is not None:
        context.update(build_gantt(run))
    return render_region(request, "dagruns/gantt.html", context, {"gantt": "dagruns/_gantt.html"})
