"""The server-side layered layout: left to right, no overlaps, groups boxing their tasks,
one curved edge per dependency."""

from __future__ import annotations

import itertools

from dagruns.ui.graph_layout import compute_layout, layout_serialized
from tests.builders import serialized


def _overlap(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_every_task_is_right_of_its_upstream_tasks():
    data = serialized("d", {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []})
    layout = layout_serialized(data)
    nodes = layout.nodes
    for up, down in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        assert nodes[down].x >= nodes[up].x + nodes[up].w
    assert nodes["b"].x == nodes["c"].x  # same layer
    assert len(layout.edges) == 4


def test_nodes_never_overlap_and_fit_the_canvas():
    edges = {f"t{i}": [f"t{j}" for j in range(i + 1, min(i + 4, 40))] for i in range(40)}
    layout = layout_serialized(serialized("d", edges))
    for a, b in itertools.combinations(layout.nodes.values(), 2):
        assert not _overlap(a, b), (a, b)
    for n in layout.nodes.values():
        assert n.x >= 0 and n.x + n.w <= layout.width and n.y >= 0 and n.y + n.h <= layout.height


def test_a_group_box_holds_its_tasks_and_nothing_else():
    data = serialized(
        "d",
        {"start": ["g.a", "g.b"], "g.a": ["g.c"], "g.b": ["g.c"], "g.c": ["end"], "end": []},
        groups={"g": ["g.a", "g.b", "g.c"]},
    )
    layout = layout_serialized(data)
    (group,) = layout.groups
    inside = [
        n
        for n in layout.nodes.values()
        if group.x <= n.x
        and n.x + n.w <= group.x + group.w
        and group.y <= n.y
        and n.y + n.h <= group.y + group.h
    ]
    assert sorted(n.task_id for n in inside) == ["g.a", "g.b", "g.c"]
    assert layout.nodes["start"].x + layout.nodes["start"].w <= group.x
    assert layout.nodes["end"].x >= group.x + group.w


def test_nested_groups_nest():
    tasks = [
        {"task_id": "a", "downstream_task_ids": ["outer.b"]},
        {"task_id": "outer.b", "downstream_task_ids": ["outer.inner.c"]},
        {"task_id": "outer.inner.c", "downstream_task_ids": []},
    ]
    tree = {
        "group_id": None,
        "children": [
            "a",
            {
                "group_id": "outer",
                "children": ["outer.b", {"group_id": "outer.inner", "children": ["outer.inner.c"]}],
            },
        ],
    }
    layout = compute_layout(tasks, tree)
    outer, inner = sorted(layout.groups, key=lambda g: g.depth)
    assert outer.x < inner.x and inner.x + inner.w <= outer.x + outer.w
    assert inner.depth == 2


def test_edges_run_from_the_right_side_of_a_task_to_the_left_side_of_the_next():
    layout = layout_serialized(serialized("d", {"a": ["b"], "b": []}))
    a, b = layout.nodes["a"], layout.nodes["b"]
    (edge,) = layout.edges
    assert edge.d.startswith(f"M{a.x + a.w:.1f},{a.y + a.h / 2:.1f}")
    assert edge.d.endswith(f"{b.x:.1f},{b.y + b.h / 2:.1f}")


def test_a_thousand_tasks_lay_out():
    edges = {f"t{i:04d}": [f"t{i + 1:04d}"] if i % 25 != 24 else [] for i in range(1000)}
    layout = layout_serialized(serialized("big", edges))
    assert len(layout.nodes) == 1000
    assert len(layout.edges) == 960


def test_tasks_missing_from_the_group_tree_are_still_drawn():
    tasks = [
        {"task_id": "a", "downstream_task_ids": []},
        {"task_id": "b", "downstream_task_ids": []},
    ]
    layout = compute_layout(tasks, {"group_id": None, "children": ["a"]})
    assert set(layout.nodes) == {"a", "b"}
