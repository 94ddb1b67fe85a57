"""A layered, left-to-right layout of a DAG, computed on the server (no JS layout engine).

Task groups are compound nodes: each group's children (tasks and sub-groups) are laid out as a
small DAG of their own — edges between children are the task edges that cross them — and the
group becomes one box of that size in its parent's layout (Sugiyama's scheme, applied per
level). Within a level: layers by longest path, order inside a layer by a few barycenter
sweeps, then columns packed left to right. Edges are drawn afterwards between the tasks'
absolute positions as cubic curves ending in an arrow.

The result depends only on the DAG version, so callers cache it per version.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from dagruns.ui.graph_collapse import collapse

NODE_HEIGHT = 38
CHAR_WIDTH = 7.6
NODE_MIN_WIDTH = 90
NODE_MAX_WIDTH = 240
LABEL_MAX_CHARS = int((NODE_MAX_WIDTH - 20) / CHAR_WIDTH)
H_GAP = 56  # between layers (room for the arrows)
V_GAP = 14  # between nodes of one layer
GROUP_PAD = 14
GROUP_HEADER = 22
MARGIN = 16
SWEEPS = 4


@dataclass
class NodeBox:
    task_id: str
    label: str
    task_type: str
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = NODE_HEIGHT

    @property
    def short_label(self) -> str:
        if len(self.label) <= LABEL_MAX_CHARS:
            return self.label
        return self.label[: LABEL_MAX_CHARS - 1] + "…"

    @property
    def short_type(self) -> str:
        limit = int((NODE_MAX_WIDTH - 26) / 6.2)
        return self.task_type if len(self.task_type) <= limit else self.task_type[: limit - 1] + "…"


@dataclass
class GroupBox:
    group_id: str
    label: str
    depth: int
    tooltip: str = ""
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class EdgePath:
    source: str
    target: str
    d: str
    # A Label on the edge (serialized edge_info), drawn at the middle of the curve.
    label: str = ""
    label_x: float = 0.0
    label_y: float = 0.0
    # "setup-teardown" for the edge from a setup to its teardown (drawn dashed, as Airflow).
    kind: str = ""


@dataclass
class Layout:
    nodes: dict[str, NodeBox] = field(default_factory=dict)
    groups: list[GroupBox] = field(default_factory=list)
    edges: list[EdgePath] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    # A collapsed task group drawn as one node: its id → the task ids it stands for.
    collapsed: dict[str, tuple[str, ...]] = field(default_factory=dict)


def node_width(label: str, task_type: str = "") -> float:
    """Room for the label (12.5px, bold) and the operator name under it (10.5px)."""
    chars = min(len(label), LABEL_MAX_CHARS)
    type_chars = min(len(task_type), LABEL_MAX_CHARS)
    return max(NODE_MIN_WIDTH, min(NODE_MAX_WIDTH, max(chars * CHAR_WIDTH, type_chars * 6.2) + 26))


@dataclass
class _Item:
    """A child of one group level: a task, or a sub-group already laid out."""

    key: str
    first: int  # topological position of its first task (ordering tie-breaker)
    w: float
    h: float
    task_id: str | None = None
    group: dict[str, Any] | None = None
    placed: list[tuple[str, Any, float, float]] = field(default_factory=list)  # relative
    layer: int = 0
    depth: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0


def compute_layout(
    tasks: list[dict[str, Any]],
    group_tree: dict[str, Any] | None = None,
    label_room: dict[str, float] | None = None,
) -> Layout:
    """Lay out serialized tasks (in topological order) inside their task-group tree.
    ``label_room``: task id → the gap its outgoing edges' labels need after its column."""
    by_id = {t["task_id"]: t for t in tasks}
    position = {t["task_id"]: i for i, t in enumerate(tasks)}
    downstream = {
        t["task_id"]: [d for d in t.get("downstream_task_ids") or () if d in by_id] for t in tasks
    }
    tree = group_tree or {"group_id": None, "children": [t["task_id"] for t in tasks]}
    seen: set[str] = set()
    _collect_loose(tree, by_id, seen)
    loose = [t["task_id"] for t in tasks if t["task_id"] not in seen]
    if loose:  # tasks missing from the tree are drawn at the top level
        tree = {**tree, "children": [*(tree.get("children") or []), *loose]}
    result = Layout()
    root = _layout_level(tree, 0, by_id, position, downstream, result, label_room or {})
    _place(root, MARGIN, MARGIN, result)
    result.width = root.w + 2 * MARGIN
    result.height = root.h + 2 * MARGIN
    for source, targets in downstream.items():
        for target in targets:
            a, b = result.nodes.get(source), result.nodes.get(target)
            if a is not None and b is not None:
                result.edges.append(EdgePath(source, target, _curve(a, b)))
    return result


def _collect_loose(node: dict[str, Any], by_id: dict, seen: set[str]) -> None:
    for child in node.get("children") or ():
        if isinstance(child, str):
            if child in by_id:
                seen.add(child)
        else:
            _collect_loose(child, by_id, seen)


def _tasks_below(node: dict[str, Any], by_id: dict) -> list[str]:
    found: list[str] = []
    for child in node.get("children") or ():
        if isinstance(child, str):
            if child in by_id:
                found.append(child)
        else:
            found.extend(_tasks_below(child, by_id))
    return found


def _layout_level(
    node: dict[str, Any],
    depth: int,
    by_id: dict[str, dict[str, Any]],
    position: dict[str, int],
    downstream: dict[str, list[str]],
    result: Layout,
    label_room: dict[str, float] | None = None,
) -> _Item:
    label_room = label_room or {}
    items: list[_Item] = []
    owner: dict[str, int] = {}  # task id → index of the child item that holds it
    for child in node.get("children") or ():
        if isinstance(child, str):
            if child not in by_id:
                continue
            task = by_id[child]
            label = task.get("task_display_name") or task.get("label") or child
            width = node_width(label, task.get("task_type") or "")
            items.append(_Item(f"t:{child}", position[child], width, NODE_HEIGHT, child))
            owner[child] = len(items) - 1
        else:
            below = _tasks_below(child, by_id)
            if not below:
                continue
            sub = _layout_level(child, depth + 1, by_id, position, downstream, result, label_room)
            sub.group = child
            sub.first = min(position[t] for t in below)
            items.append(sub)
            for task_id in below:
                owner[task_id] = len(items) - 1
    # Edges between this level's items, kept only forward in topological order so the
    # layering is acyclic even when a group holds tasks both before and after a sibling.
    succ: dict[int, set[int]] = defaultdict(set)
    pred: dict[int, set[int]] = defaultdict(set)
    for source, i in owner.items():
        for target in downstream[source]:
            j = owner.get(target)
            if j is None or j == i or items[j].first < items[i].first:
                continue
            succ[i].add(j)
            pred[j].add(i)
    order = sorted(range(len(items)), key=lambda i: items[i].first)
    for i in order:
        items[i].layer = max((items[p].layer + 1 for p in pred[i]), default=0)
    layers: dict[int, list[int]] = defaultdict(list)
    for i in order:
        layers[items[i].layer].append(i)
    _order_layers(layers, items, succ, pred)
    # Columns, left to right; inside a column, items stacked and centred on the tallest one.
    x, gap = 0.0, float(H_GAP)
    column_heights = {
        n: sum(items[i].h for i in members) + V_GAP * (len(members) - 1)
        for n, members in layers.items()
    }
    tallest = max(column_heights.values(), default=0.0)
    for n in sorted(layers):
        members = layers[n]
        width = max(items[i].w for i in members)
        y = (tallest - column_heights[n]) / 2
        for i in members:
            items[i].x = x + (width - items[i].w) / 2
            items[i].y = y
            y += items[i].h + V_GAP
        # Wider after a column whose edges carry labels, so a label fits between the boxes.
        room = (label_room.get(items[i].task_id or "", 0.0) for i in members)
        gap = max([float(H_GAP), *room])
        x += width + gap
    content_w = max(x - gap, 0.0)
    level = _Item(key=f"g:{node.get('group_id')}", first=0, w=content_w, h=tallest)
    level.placed = [(it.key, it, it.x, it.y) for it in items]
    if node.get("group_id") is not None and depth > 0:
        level.w = max(content_w + 2 * GROUP_PAD, node_width(node.get("label") or "") + 10)
        level.h = tallest + 2 * GROUP_PAD + GROUP_HEADER
        level.group = node
    level.depth = depth
    return level


def _order_layers(
    layers: dict[int, list[int]],
    items: list[_Item],
    succ: dict[int, set[int]],
    pred: dict[int, set[int]],
) -> None:
    """Barycenter heuristic: sweep down and up, sorting each layer by its neighbours' mean
    position in the adjacent layer (fewer crossings); ties keep topological order."""
    for members in layers.values():
        for rank, i in enumerate(members):
            items[i].order = rank
    keys = sorted(layers)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        for n in keys if forward else reversed(keys):
            members = layers[n]
            neighbours = pred if forward else succ

            def barycenter(i: int, neighbours=neighbours) -> tuple[float, int]:
                around = neighbours[i]
                if not around:
                    return (items[i].order, items[i].first)
                return (sum(items[j].order for j in around) / len(around), items[i].first)

            members.sort(key=barycenter)
            for rank, i in enumerate(members):
                items[i].order = rank


def _place(level: _Item, ox: float, oy: float, result: Layout) -> None:
    inner_x, inner_y = ox, oy
    if level.group is not None and level.group.get("group_id") is not None and level.depth > 0:
        group = level.group
        result.groups.append(
            GroupBox(
                group_id=group.get("group_id") or "",
                label=group.get("label") or group.get("group_id") or "",
                depth=level.depth,
                tooltip=group.get("tooltip") or "",
                x=ox,
                y=oy,
                w=level.w,
                h=level.h,
            )
        )
        inner_x, inner_y = ox + GROUP_PAD, oy + GROUP_PAD + GROUP_HEADER
    for _key, item, x, y in level.placed:
        if item.task_id is not None:
            result.nodes[item.task_id] = NodeBox(
                task_id=item.task_id,
                label="",
                task_type="",
                x=inner_x + x,
                y=inner_y + y,
                w=item.w,
                h=item.h,
            )
        else:
            _place(item, inner_x + x, inner_y + y, result)


def _label_room(edge_info: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """The gap after a task's column its longest edge label needs (10.5px italic text)."""
    room: dict[str, float] = {}
    for source, targets in edge_info.items():
        longest = max((len(str(info.get("label") or "")) for info in targets.values()), default=0)
        if longest:
            room[source] = min(longest, LABEL_MAX_CHARS) * 6.0 + 28
    return room


def label_edges(layout: Layout, edge_info: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put each edge's label (Airflow's edge_info ``{"label": ...}``) at the middle of its
    curve: the point at t=1/2 of the cubic Bezier ``_curve`` draws."""
    for edge in layout.edges:
        label = (edge_info.get(edge.source) or {}).get(edge.target, {}).get("label")
        if not label:
            continue
        a, b = layout.nodes[edge.source], layout.nodes[edge.target]
        x1, y1 = a.x + a.w, a.y + a.h / 2
        x2, y2 = b.x, b.y + b.h / 2
        edge.label = str(label)
        edge.label_x = (x1 + x2) / 2
        edge.label_y = (y1 + y2) / 2 - 4  # just above the line


def _curve(a: NodeBox, b: NodeBox) -> str:
    x1, y1 = a.x + a.w, a.y + a.h / 2
    x2, y2 = b.x, b.y + b.h / 2
    bend = max(24.0, abs(x2 - x1) / 2)
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


_CACHE: OrderedDict[tuple[int, str, frozenset[str]], Layout] = OrderedDict()


def layout_for_version(
    version_id: int,
    structure_hash: str,
    serialized: dict | None = None,
    collapsed: frozenset[str] = frozenset(),
) -> Layout:
    """The layout of a stored DAG version with some task groups collapsed, cached per process
    (versions never change)."""
    cache_key = (version_id, structure_hash, collapsed)
    found = _CACHE.get(cache_key)
    if found is not None:
        _CACHE.move_to_end(cache_key)
        return found
    if serialized is None:
        from dagruns.models import DagVersion

        serialized = DagVersion.objects.values_list("serialized", flat=True).get(pk=version_id)
    shown, members = collapse(serialized, collapsed)
    built = layout_serialized(shown)
    built.collapsed = members
    _CACHE[cache_key] = built
    while len(_CACHE) > 32:
        _CACHE.popitem(last=False)
    return built


def layout_serialized(serialized: dict[str, Any]) -> Layout:
    tasks = serialized.get("tasks") or []
    edge_info = serialized.get("edge_info") or {}
    built = compute_layout(tasks, serialized.get("task_group"), _label_room(edge_info))
    label_edges(built, edge_info)
    roles: dict[str, str] = {}
    for task in tasks:
        box = built.nodes.get(task["task_id"])
        if box is not None:
            box.label = task.get("task_display_name") or task.get("label") or task["task_id"]
            box.task_type = task.get("task_type") or ""
            role = (
                "setup" if task.get("is_setup") else "teardown" if task.get("is_teardown") else ""
            )
            if role:  # Airflow marks setup and teardown tasks in its graph
                roles[task["task_id"]] = role
                box.task_type = f"{box.task_type} · {role}"
    for edge in built.edges:
        if roles.get(edge.source) == "setup" and roles.get(edge.target) == "teardown":
            edge.kind = "setup-teardown"
    return built


def clear_cache() -> None:
    _CACHE.clear()
