"""Collapsing task groups before layout: a collapsed group is one node, the edges that
crossed its border end at it, nested groups go with it, and unknown groups are refused."""

from __future__ import annotations

import pytest

from dagruns.ui.graph_collapse import UnknownGroupError, collapse, parse_collapsed
from dagruns.ui.graph_layout import layout_serialized
from tests.builders import serialized

EDGES = {"start": ["g.a", "g.b"], "g.a": ["g.c"], "g.b": ["g.c"], "g.c": ["end"], "end": []}


def test_a_collapsed_group_is_one_node_with_the_edges_that_crossed_its_border():
    data = serialized("d", EDGES, groups={"g": ["g.a", "g.b", "g.c"]})
    shown, members = collapse(data, frozenset({"g"}))
    assert members == {"g": ("g.a", "g.b", "g.c")}
    layout = layout_serialized(shown)
    assert set(layout.nodes) == {"start", "g", "end"}
    assert {(e.source, e.target) for e in layout.edges} == {("start", "g"), ("g", "end")}
    assert layout.groups == []
    assert layout.nodes["start"].x < layout.nodes["g"].x < layout.nodes["end"].x
    assert layout.nodes["g"].task_type == "TaskGroup"


def test_a_group_inside_a_collapsed_group_goes_with_it():
    data = serialized("d", {"a": ["o.i.x"], "o.i.x": ["o.y"], "o.y": []})
    data["task_group"]["children"] = [
        "a",
        {
            "group_id": "o",
            "label": "o",
            "children": [{"group_id": "o.i", "label": "i", "children": ["o.i.x"]}, "o.y"],
        },
    ]
    shown, members = collapse(data, frozenset({"o", "o.i"}))
    assert members == {"o": ("o.i.x", "o.y")}
    assert [t["task_id"] for t in shown["tasks"]] == ["a", "o"]


def test_nothing_collapsed_leaves_the_dag_as_it_is():
    data = serialized("d", EDGES, groups={"g": ["g.a", "g.b", "g.c"]})
    assert collapse(data, frozenset()) == (data, {})


def test_an_unknown_group_is_refused_by_name():
    assert parse_collapsed(" g ,, ", {"g"}) == frozenset({"g"})
    with pytest.raises(UnknownGroupError, match="'nope'"):
        parse_collapsed("g,nope", {"g"})
