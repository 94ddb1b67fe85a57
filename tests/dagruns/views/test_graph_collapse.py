"""The graph page with `?collapsed=`: a group drawn as one node in its tasks' summary state
(also in a live update's fragment), and an unknown group refused with its name."""

from __future__ import annotations

import pytest

from dagruns.ui.live import graph_fragments
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

EDGES = {"start": ["g.a", "g.b"], "g.a": ["end"], "g.b": ["end"], "end": []}


@pytest.fixture
def grouped_run():
    dag = store_dag("grouped", EDGES, groups={"g": ["g.a", "g.b"]})
    return add_run(dag, run_id="r1", states={"g.a": "success", "g.b": "failed"})


def test_a_collapsed_group_is_one_node_in_its_tasks_summary_state(viewer, grouped_run):
    html = viewer.get("/dags/grouped/graph", {"collapsed": "g"}).content.decode()
    assert 'data-task-id="g" data-group-id="g" data-state="failed"' in html
    assert 'data-task-id="g.a"' not in html
    assert 'data-collapsed="g"' in html
    assert "collapsed=g" in html  # the live connection follows the collapsed layout
    fragment = graph_fragments("grouped", "r1", [("r1", "g.b")], "g")
    assert 'data-group-id="g" data-state="failed"' in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert 'data-task-id="g.b"' not in fragment


def test_an_unknown_collapsed_group_is_refused_with_its_name(viewer, grouped_run):
    response = viewer.get("/dags/grouped/graph", {"collapsed": "g,nope"})
    assert response.status_code == 400
    assert "'nope'" in response.content.decode()
    assert graph_fragments("grouped", "r1", [("r1", "g.b")], "nope") == ""
