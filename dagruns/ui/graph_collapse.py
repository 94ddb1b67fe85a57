"""Task groups collapsed in the graph, as in Airflow 3's graph: a collapsed group is drawn as
one node (its state the summary of its tasks' states) and the edges that crossed its border
now end at that node.

Collapsing rewrites the serialized DAG before it is laid out: the group becomes a pseudo-task
whose id is the group id (Airflow refuses a task id equal to a group id, so they cannot
clash) and each edge is redirected to the outermost collapsed group holding its end. The
layout code then needs no special case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

GROUP_TASK_TYPE = "TaskGroup"


class UnknownGroupError(ValueError):
    """A group asked to be collapsed that the DAG version does not have."""


def _members(node: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for child in node.get("children") or ():
        if isinstance(child, str):
            out.append(child)
        else:
            out.extend(_members(child))
    return out


def parse_collapsed(raw: str, known: Iterable[str]) -> frozenset[str]:
    """`?collapsed=a,b` → the group ids; one the version does not have is refused by name."""
    wanted = frozenset(part for part in (p.strip() for p in raw.split(",")) if part)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise UnknownGroupError(
            f"collapsed: no task group {unknown[0]!r} in this DAG version"
            " (open the graph without ?collapsed= to see its groups)"
        )
    return wanted


def collapse(
    serialized: dict[str, Any], collapsed: frozenset[str]
) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """The serialized DAG with each collapsed group replaced by one pseudo-task, and for
    each drawn group node the task ids it stands for. A group inside a collapsed group is
    collapsed with it."""
    if not collapsed:
        return serialized, {}
    owner: dict[str, str] = {}  # task id → the outermost collapsed group holding it
    members: dict[str, tuple[str, ...]] = {}
    labels: dict[str, str] = {}

    def rewrite(node: dict[str, Any]) -> dict[str, Any]:
        children: list[Any] = []
        for child in node.get("children") or ():
            if isinstance(child, dict) and child.get("group_id") in collapsed:
                group_id = child["group_id"]
                inside = tuple(_members(child))
                members[group_id] = inside
                labels[group_id] = child.get("label") or group_id
                for task_id in inside:
                    owner[task_id] = group_id
                children.append(group_id)
            elif isinstance(child, dict):
                children.append(rewrite(child))
            else:
                children.append(child)
        return {**node, "children": children}

    tree = rewrite(serialized.get("task_group") or {"group_id": None, "children": []})

    def drawn(task_id: str) -> str:
        return owner.get(task_id, task_id)

    tasks: list[dict[str, Any]] = []
    placed: dict[str, dict[str, Any]] = {}
    for task in serialized.get("tasks") or ():
        here = drawn(task["task_id"])
        downstream = [drawn(d) for d in task.get("downstream_task_ids") or ()]
        if here not in placed:  # a group sits where its first task (topologically) was
            placed[here] = (
                {**task, "downstream_task_ids": []}
                if here == task["task_id"]
                else {
                    "task_id": here,
                    "label": labels[here],
                    "task_type": GROUP_TASK_TYPE,
                    "downstream_task_ids": [],
                }
            )
            tasks.append(placed[here])
        out = placed[here]["downstream_task_ids"]
        out.extend(d for d in downstream if d != here and d not in out)
    edge_info: dict[str, dict[str, Any]] = {}
    for source, targets in (serialized.get("edge_info") or {}).items():
        for target, info in targets.items():
            a, b = drawn(source), drawn(target)
            if a != b and a == source and b == target:  # a label stays on an edge kept as is
                edge_info.setdefault(a, {})[b] = info
    return {**serialized, "tasks": tasks, "task_group": tree, "edge_info": edge_info}, members
