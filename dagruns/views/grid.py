"""`/dags/<dag_id>/`: the grid — tasks by runs, coloured by state; a click opens the task
instance panel in place."""

from __future__ import annotations

from dagruns.ui.grid import DEFAULT_RUNS, MAX_RUNS, build_grid
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region


def _num_runs(request) -> int:
    try:
        return max(1, min(MAX_RUNS, int(request.GET.get("num_runs", DEFAULT_RUNS))))
    except ValueError:
        return DEFAULT_RUNS


@viewer_required
def grid(request, dag_id: str):
    dag = get_dag(dag_id)
    num_runs = _num_runs(request)
    context = dag_context(request, dag, "grid", num_runs=num_runs)
    context.update(build_grid(dag, num_runs))
    context["run_choices"] = (10, 25, 50, 100)
    return render_region(request, "dagruns/grid.html", context, {"grid": "dagruns/_grid.html"})
