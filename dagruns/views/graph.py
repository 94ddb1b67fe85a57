"""`/dags/<dag_id>/graph`: the DAG laid out left to right (server-side layout, SVG), groups
as boxes, nodes coloured by the selected run's states. `?collapsed=g1,g2` draws those task
groups as one node each (static/orchestrator.js toggles it when a group is clicked)."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils.html import escape

from dagruns.actions.mapped import mapped_task_ids
from dagruns.models import DagVersion
from dagruns.ui import keys
from dagruns.ui.graph_collapse import UnknownGroupError, parse_collapsed
from dagruns.ui.graph_layout import Layout, layout_for_version
from dagruns.ui.grid import TiCell, ti_cells, ti_title
from dagruns.ui.structure import group_state, structure_for
from dagruns.ui.urls import dag_url, run_part, task_part
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, recent_runs, render_region, selected_run


def node_states(run_pk: int, task_ids: list[str] | None = None) -> dict[str, TiCell]:
    """Each task's state in a run, a mapped task's instances folded into one (the grid's rule)."""
    return {task_id: cell for (_pk, task_id), cell in ti_cells([run_pk], task_ids).items()}


def node_task_ids(layout: Layout, task_ids: list[str]) -> list[str]:
    """The drawn nodes these tasks change: a task's own node, or its collapsed group's."""
    owner = {t: group for group, members in layout.collapsed.items() for t in members}
    return list(dict.fromkeys(owner.get(t, t) for t in task_ids))


def state_task_ids(layout: Layout, node_ids: list[str]) -> list[str]:
    """The tasks whose states these nodes show (a collapsed group's: all of its tasks)."""
    return [t for n in node_ids for t in layout.collapsed.get(n, (n,))]


def group_node_cell(members: tuple[str, ...], states: dict[str, TiCell]) -> TiCell:
    """A collapsed group's node: the summary of its tasks' states (the grid's group rule)."""
    found = [states[t].state for t in members if t in states]
    return TiCell(group_state(found), 0, None, mapped_states=found)


def graph_nodes(
    layout, run, states: dict[str, TiCell], base: str, mapped_ids: frozenset[str] = frozenset()
) -> list[dict]:
    """Each node with what the template and a live update draw: position, state, link, and
    for a mapped task its instance count (drawn as "[n]" on a stacked box, as Airflow); a
    collapsed group's node carries its tasks' summary state and no link (a click expands it)."""
    nodes = []
    prefix = f"{base}runs/{run_part(run.run_id)}/tasks/" if run else ""
    for task_id, box in layout.nodes.items():
        members = layout.collapsed.get(task_id)
        if members is not None:
            cell = group_node_cell(members, states)
            counts = cell.summary() if cell.mapped_states else "no status"
            title = f"{len(members)} tasks: {counts} (click to expand)"
        else:
            cell = states.get(task_id) or TiCell(None, 0, None)
            title = ti_title(cell.state, cell.try_number, cell.duration)
        if cell.mapped:
            title = f"{cell.mapped} mapped: {cell.summary()}"
        nodes.append(
            {
                "box": box,
                "task_id": task_id,
                "state": cell.state or "none",
                "mapped": cell.mapped,
                # Declared mapped (stacked even before it expands: "[ ]" until it has a count).
                "is_mapped": bool(cell.mapped) or task_id in mapped_ids,
                "title": f"{task_id}\n{title}",
                "dom_id": keys.node_id(run.pk, task_id) if run else "n_" + keys.key(task_id),
                "href": prefix + task_part(task_id) if run and members is None else "",
                "group": members is not None,
            }
        )
    return nodes


def graph_context(dag, run, version_id: int | None, collapsed_raw: str = "") -> dict:
    """Raises UnknownGroupError for a `collapsed` group the version does not have."""
    if version_id is None:
        return {"layout": None, "nodes": [], "collapsed": ""}
    version_hash = DagVersion.objects.values_list("structure_hash", flat=True).get(pk=version_id)
    known = structure_for(version_id, version_hash).groups
    collapsed = parse_collapsed(collapsed_raw, known)
    layout = layout_for_version(version_id, version_hash, collapsed=collapsed)
    states = node_states(run.pk) if run is not None else {}
    return {
        "collapsed": ",".join(sorted(collapsed)),
        "layout": layout,
        "nodes": graph_nodes(layout, run, states, dag_url(dag.dag_id), mapped_task_ids(version_id)),
        "escape": escape,
    }


@viewer_required
def graph(request, dag_id: str):
    dag = get_dag(dag_id)
    runs = recent_runs(dag.dag_id)
    run = selected_run(request, runs, dag.dag_id)
    version_id = run.dag_version_id if run and run.dag_version_id else None
    if version_id is None:
        version_id = (
            DagVersion.objects.filter(dag=dag)
            .order_by("-version_number")
            .values_list("pk", flat=True)
            .first()
        )
    collapsed_raw = request.GET.get("collapsed", "")
    context = dag_context(
        request, dag, "graph", run_id=request.GET.get("run_id", ""), collapsed=collapsed_raw
    )
    try:
        context.update(graph_context(dag, run, version_id, collapsed_raw))
    except UnknownGroupError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    context.update({"runs": runs, "run": run, "explicit_run": bool(request.GET.get("run_id"))})
    return render_region(request, "dagruns/graph.html", context, {"graph": "dagruns/_graph.html"})
