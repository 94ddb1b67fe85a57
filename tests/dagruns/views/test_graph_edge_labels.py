"""Labels on edges (``a >> Label("why") >> b``) are drawn on the graph view."""

from __future__ import annotations

import pytest

from dagruns.models import DagVersion
from tests.builders import store_dag

pytestmark = pytest.mark.django_db


def test_the_graph_shows_each_edge_label_once_at_its_edge(viewer):
    dag = store_dag("labelled", {"check": ["night", "day"], "night": [], "day": []})
    version = dag.latest_version()
    version.serialized["edge_info"] = {
        "check": {"night": {"label": "in the window"}, "day": {"label": "<outside>"}}
    }
    DagVersion.objects.filter(pk=version.pk).update(serialized=version.serialized)
    html = viewer.get("/dags/labelled/graph").content.decode()
    assert html.count('class="edge-label"') == 2
    assert 'data-source="check" data-target="night">in the window</text>' in html
    assert "&lt;outside&gt;</text>" in html  # escaped like any text on the page


def test_a_graph_without_labels_draws_none(viewer):
    store_dag("plain", {"a": ["b"], "b": []})
    html = viewer.get("/dags/plain/graph").content.decode()
    assert 'class="edge"' in html
    assert "edge-label" not in html
