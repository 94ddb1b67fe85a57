"""The fragments a live update sends to an open page: the grid cells or graph nodes whose
task instances changed, rendered exactly as the page renders them, marked for htmx's
out-of-band swap. A constant number of queries per batch of events, whatever its size."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from dagruns.actions.mapped import mapped_task_ids
from dagruns.models import DagRun, DagVersion
from dagruns.ui.graph_collapse import UnknownGroupError, parse_collapsed
from dagruns.ui.graph_layout import layout_for_version
from dagruns.ui.grid import (
    CellRun,
    CellTask,
    cell_html,
    group_cell_html,
    latest_runs,
    latest_version,
    ti_cells,
)
from dagruns.ui.structure import group_state, structure_for
from dagruns.ui.urls import dag_url


def changed_tis(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for event in events:
        if event.get("kind") == "ti" and event.get("run_id") and event.get("task_id"):
            seen[(event["run_id"], event["task_id"])] = None
    return list(seen)


def fragments_in(
    zone: tzinfo, dag_id: str, view: str, params: dict[str, Any], events: list[dict[str, Any]]
) -> str:
    """`fragments`, their dates in the viewer's zone (a socket has no request to carry it)."""
    with timezone.override(zone):
        return fragments(dag_id, view, params, events)


def fragments(dag_id: str, view: str, params: dict[str, Any], events: list[dict[str, Any]]) -> str:
    changed = changed_tis(events)
    if not changed:
        return ""
    if view == "grid":
        return grid_fragments(dag_id, int(params.get("num_runs") or 25), changed)
    if view == "graph":
        return graph_fragments(
            dag_id, params.get("run_id") or "", changed, params.get("collapsed") or ""
        )
    return ""


def grid_fragments(dag_id: str, num_runs: int, changed: list[tuple[str, str]]) -> str:
    runs = {r.run_id: r for r in latest_runs(dag_id, num_runs)}
    wanted = [(runs[run_id], task_id) for run_id, task_id in changed if run_id in runs]
    if not wanted:
        return ""
    version = latest_version(dag_id)
    structure = structure_for(*version) if version else structure_for(None)
    parents = {row.id: row.parents for row in structure.rows if not row.is_group}
    affected_runs = {run.pk for run, _ in wanted}
    # Every task of the affected runs: a group's cell summarizes its other tasks too.
    states = ti_cells(list(affected_runs))
    base = dag_url(dag_id)
    parts: list[str] = []
    groups_done: set[tuple[int, str]] = set()
    for run, task_id in wanted:
        cell_run = CellRun.of(run.pk, run.run_id, base)
        parts.append(
            cell_html(cell_run, CellTask.of(task_id), states.get((run.pk, task_id)), oob=True)
        )
        for group_id in parents.get(task_id, ()):
            if (run.pk, group_id) in groups_done:
                continue
            groups_done.add((run.pk, group_id))
            members = structure.groups[group_id].task_ids
            summary = group_state(
                [states[(run.pk, t)].state for t in members if (run.pk, t) in states]
            )
            parts.append(group_cell_html(run.pk, cell_run.attr, group_id, summary, oob=True))
    return "".join(parts)


def graph_fragments(
    dag_id: str, run_id: str, changed: list[tuple[str, str]], collapsed_raw: str = ""
) -> str:
    """The changed nodes of the graph page's run; with groups collapsed (the page's
    `?collapsed=`), a task inside one changes its group's node."""
    from dagruns.views.graph import graph_nodes, node_states, node_task_ids, state_task_ids

    runs = DagRun.objects.filter(dag_id=dag_id)
    run = (
        runs.filter(run_id=run_id).first() if run_id else runs.order_by("-run_after", "-id").first()
    )
    if run is None or run.dag_version_id is None:
        return ""
    task_ids = [task_id for changed_run, task_id in changed if changed_run == run.run_id]
    if not task_ids:
        return ""
    structure_hash = DagVersion.objects.values_list("structure_hash", flat=True).get(
        pk=run.dag_version_id
    )
    try:
        known = structure_for(run.dag_version_id, structure_hash).groups
        collapsed = parse_collapsed(collapsed_raw, known)
    except UnknownGroupError:  # the page itself was refused: it has no nodes to update
        return ""
    layout = layout_for_version(run.dag_version_id, structure_hash, collapsed=collapsed)
    node_ids = node_task_ids(layout, task_ids)
    states = node_states(run.pk, state_task_ids(layout, node_ids))
    mapped_ids = mapped_task_ids(run.dag_version_id)
    wanted = set(node_ids)
    nodes = [
        n
        for n in graph_nodes(layout, run, states, dag_url(dag_id), mapped_ids)
        if n["task_id"] in wanted and (n["task_id"] in states or n["task_id"] in layout.collapsed)
    ]
    return "".join(
        render_to_string("dagruns/_graph_node.html", {"n": node, "run": run, "oob": True})
        for node in nodes
    )
