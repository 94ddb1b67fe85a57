"""The grid's rows are drawn in Python, each escaped once: a group row with its toggle, a task
row with its type, a task no longer in the DAG marked so, whatever characters the ids hold,
and each row holding its own cells."""

from __future__ import annotations

import re

import pytest

from dagruns.models import TaskInstance
from dagruns.ui.grid import build_grid
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

ODD_TASK = 'g.say_"hi"&<b>'


def test_rows_name_their_task_or_group_escaped_once_and_hold_their_cells():
    dag = store_dag("odd", {ODD_TASK: ["g.end"], "g.end": []}, groups={"g": [ODD_TASK, "g.end"]})
    run = add_run(dag, states={ODD_TASK: "failed"}, state="failed")
    gone = TaskInstance.objects.get(dag_run=run, task_id="g.end")
    gone.pk, gone.task_id = None, "gone<'>"
    gone.save()

    grid = build_grid(dag)
    html = str(grid["rows_html"])
    rows = re.findall(r'<div class="grow (\w+)" data-row="(\w+)" ?([^>]*)>', html)
    assert [(kind, key) for kind, key, _ in rows] == [(r.row.kind, r.key) for r in grid["rows"]]
    assert [kind for kind, _, _ in rows] == ["group", "task", "task", "task"]
    group_key = grid["rows"][0].key
    assert rows[0][2] == "" and rows[1][2] == f'data-parents="{group_key}"'
    assert (
        f'<button type="button" class="toggle" data-group="{group_key}" aria-expanded="true" '
        'aria-label="Collapse g">▾</button><span class="glabel">g</span>'
    ) in html
    assert (
        'title="g.say_&quot;hi&quot;&amp;&lt;b&gt; (BashOperator)">\n'
        '      <span class="tlabel">say_&quot;hi&quot;&amp;&lt;b&gt;</span>'
    ) in html
    assert 'title="gone&lt;&#x27;&gt; (removed from the DAG)"' in html
    assert "<b>" not in html and "&amp;amp;" not in html
    for row in grid["rows"]:
        assert f'<div class="gcells">{row.cells}</div>' in html
