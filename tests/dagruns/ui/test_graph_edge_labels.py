"""Where an edge's label goes: the middle of the curve drawn between the two nodes."""

from __future__ import annotations

from dagruns.ui.graph_layout import layout_serialized


def _task(task_id: str, downstream: list[str]) -> dict:
    return {"task_id": task_id, "downstream_task_ids": downstream, "task_type": "EmptyOperator"}


def test_a_labelled_edge_gets_its_label_between_its_two_nodes():
    layout = layout_serialized(
        {
            "tasks": [_task("a", ["b", "c"]), _task("b", []), _task("c", [])],
            "edge_info": {"a": {"b": {"label": "yes"}}},
        }
    )
    edges = {(e.source, e.target): e for e in layout.edges}
    labelled, plain = edges["a", "b"], edges["a", "c"]
    a, b = layout.nodes["a"], layout.nodes["b"]
    assert labelled.label == "yes"
    assert a.x + a.w < labelled.label_x < b.x
    assert plain.label == ""


def test_a_long_label_widens_the_gap_after_its_column_so_it_fits_between_the_boxes():
    tasks = [_task("a", ["b"]), _task("b", [])]
    plain = layout_serialized({"tasks": tasks})
    label = "a rather long explanation"
    labelled = layout_serialized({"tasks": tasks, "edge_info": {"a": {"b": {"label": label}}}})
    a, b = labelled.nodes["a"], labelled.nodes["b"]
    gap = b.x - (a.x + a.w)
    assert gap > plain.nodes["b"].x - (plain.nodes["a"].x + plain.nodes["a"].w)
    assert gap >= len(label) * 6.0


def test_setup_and_teardown_tasks_are_marked_and_their_edge_is_dashed():
    tasks = [
        {**_task("create", ["work", "delete"]), "is_setup": True},
        _task("work", ["delete"]),
        {**_task("delete", []), "is_teardown": True},
    ]
    layout = layout_serialized({"tasks": tasks})
    assert layout.nodes["create"].task_type == "EmptyOperator · setup"
    assert layout.nodes["delete"].task_type == "EmptyOperator · teardown"
    assert layout.nodes["work"].task_type == "EmptyOperator"
    kinds = {(e.source, e.target): e.kind for e in layout.edges}
    assert kinds == {
        ("create", "work"): "",
        ("create", "delete"): "setup-teardown",
        ("work", "delete"): "",
    }
