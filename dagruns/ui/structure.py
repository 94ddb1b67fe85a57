"""A DAG version's shape as the pages draw it: tasks in topological order, nested in their
task groups, with their edges. Read once per version and cached (versions never change)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from dagruns.models import DagVersion
from dagruns.models.states import TaskInstanceState as TIS

_CACHE: OrderedDict[tuple[int, str], Structure] = OrderedDict()
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Row:
    """One row of the grid: a task, or a task group (which the grid can collapse)."""

    kind: str  # "task" | "group"
    id: str  # task_id or group_id
    label: str
    depth: int
    parents: tuple[str, ...]  # enclosing group ids, outermost first
    task_ids: tuple[str, ...]  # a group: every task inside it, at any depth
    task_type: str = ""
    tooltip: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind == "group"


@dataclass(frozen=True)
class Structure:
    rows: tuple[Row, ...]
    tasks: dict[str, dict[str, Any]]
    groups: dict[str, Row]
    order: tuple[str, ...]  # task ids, topological
    edges: tuple[tuple[str, str], ...]
    group_tree: dict[str, Any] = field(default_factory=dict)

    def parents_of(self, task_id: str) -> tuple[str, ...]:
        for row in self.rows:
            if row.kind == "task" and row.id == task_id:
                return row.parents
        return ()


def task_label(task: dict[str, Any], task_id: str) -> str:
    """What the grid and the graph call a task: its task_display_name, else its label."""
    return task.get("task_display_name") or task.get("label") or task_id


def build_structure(serialized: dict[str, Any]) -> Structure:
    tasks_list = serialized.get("tasks") or []
    tasks = {t["task_id"]: t for t in tasks_list}
    order = tuple(t["task_id"] for t in tasks_list)
    position = {task_id: i for i, task_id in enumerate(order)}
    tree = serialized.get("task_group") or {"group_id": None, "children": list(order)}
    rows: list[Row] = []
    groups: dict[str, Row] = {}
    seen: set[str] = set()

    def first_position(child: Any) -> int:
        if isinstance(child, str):
            return position.get(child, len(order))
        return min((first_position(c) for c in child.get("children") or ()), default=len(order))

    def all_tasks(node: dict[str, Any]) -> list[str]:
        found: list[str] = []
        for child in node.get("children") or ():
            if isinstance(child, str):
                if child in tasks:
                    found.append(child)
            else:
                found.extend(all_tasks(child))
        return found

    def walk(node: dict[str, Any], depth: int, parents: tuple[str, ...]) -> None:
        for child in sorted(node.get("children") or (), key=first_position):
            if isinstance(child, str):
                if child not in tasks or child in seen:
                    continue
                seen.add(child)
                task = tasks[child]
                rows.append(
                    Row(
                        kind="task",
                        id=child,
                        label=task_label(task, child),
                        depth=depth,
                        parents=parents,
                        task_ids=(child,),
                        task_type=task.get("task_type") or "",
                    )
                )
            else:
                group_id = child.get("group_id") or ""
                row = Row(
                    kind="group",
                    id=group_id,
                    label=child.get("label") or group_id,
                    depth=depth,
                    parents=parents,
                    task_ids=tuple(sorted(all_tasks(child), key=position.__getitem__)),
                    tooltip=child.get("tooltip") or "",
                )
                groups[group_id] = row
                rows.append(row)
                walk(child, depth + 1, (*parents, group_id))

    walk(tree, 0, ())
    for task_id in order:  # tasks the group tree forgot still get a row
        if task_id not in seen:
            rows.append(
                Row(
                    "task",
                    task_id,
                    task_label(tasks[task_id], task_id),
                    0,
                    (),
                    (task_id,),
                    tasks[task_id].get("task_type") or "",
                )
            )
    edges = tuple(
        (task_id, down)
        for task_id in order
        for down in tasks[task_id].get("downstream_task_ids") or ()
        if down in tasks
    )
    return Structure(
        rows=tuple(rows), tasks=tasks, groups=groups, order=order, edges=edges, group_tree=tree
    )


def structure_for(version_id: int | None, structure_hash: str = "") -> Structure:
    """The cached structure of a version (an empty one for None)."""
    if version_id is None:
        return build_structure({"tasks": []})
    cache_key = (version_id, structure_hash)
    found = _CACHE.get(cache_key)
    if found is not None:
        _CACHE.move_to_end(cache_key)
        return found
    serialized = DagVersion.objects.values_list("serialized", flat=True).get(pk=version_id)
    built = build_structure(serialized)
    _CACHE[cache_key] = built
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return built


def clear_cache() -> None:
    _CACHE.clear()


# Airflow's grid: the state a group shows is the "worst" of its tasks' states, in this order.
GROUP_STATE_PRIORITY = (
    TIS.FAILED,
    TIS.UPSTREAM_FAILED,
    TIS.UP_FOR_RETRY,
    TIS.UP_FOR_RESCHEDULE,
    TIS.QUEUED,
    TIS.SCHEDULED,
    TIS.DEFERRED,
    TIS.RUNNING,
    TIS.RESTARTING,
    None,
    TIS.SUCCESS,
    TIS.SKIPPED,
    TIS.REMOVED,
)
_RANK: dict[str | None, int] = {state: i for i, state in enumerate(GROUP_STATE_PRIORITY)}


def group_state(states: list[str | None]) -> str | None:
    """The summary state of a group's task instances; None when it has none or all are none."""
    if not states:
        return None
    # The distinct states first: a group row of the grid summarizes 50 tasks per cell.
    return min(dict.fromkeys(states), key=lambda s: _RANK.get(s, len(_RANK)))
