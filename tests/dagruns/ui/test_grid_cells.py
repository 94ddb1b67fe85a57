"""The grid's cells are built from parts escaped once per run and per row: a live update's cell
is the page's cell byte for byte (plus htmx's out-of-band marker), whatever characters the task
and run ids hold; a group's cell names the group and its summary state."""

from __future__ import annotations

import re

import pytest

from dagruns.models import DagModel
from dagruns.ui.grid import build_grid
from dagruns.ui.live import grid_fragments
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

ODD_TASK = 'g.say_"hi"&<b>'


@pytest.fixture
def odd():
    dag = store_dag("odd", {ODD_TASK: ["g.end"], "g.end": []}, groups={"g": [ODD_TASK, "g.end"]})
    add_run(dag, states={ODD_TASK: "failed"}, state="failed", run_id="manual__a&b<c>'d\"")
    return dag


def page_cells(dag: DagModel) -> str:
    return "".join(row.cells for row in build_grid(dag)["rows"])


def cell_tags(html: str) -> list[str]:
    return re.findall(r"<(?:a|span) class=\"cell[^>]*>", html)


def test_a_live_update_draws_the_cell_exactly_as_the_page_does(odd):
    page = page_cells(odd)
    live = grid_fragments("odd", 25, [("manual__a&b<c>'d\"", ODD_TASK)])
    sent = [tag.replace(' hx-swap-oob="true"', "") for tag in cell_tags(live)]
    assert len(sent) == 2  # the task's cell and its group's
    for tag in sent:
        assert tag in page
    assert 'data-task-id="g.say_&quot;hi&quot;&amp;&lt;b&gt;"' in sent[0]
    assert "<b>" not in page and "<c>" not in page


def test_a_group_cell_names_its_group_and_its_state(odd):
    group = next(t for t in cell_tags(page_cells(odd)) if "data-group-id" in t)
    assert 'data-state="failed"' in group
    assert 'data-tip="g (group)\nState: failed"' in group
