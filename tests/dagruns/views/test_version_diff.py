"""The code view's version diff: the source as a highlighted unified diff, the structure's
added and removed tasks and edges and changed operators and trigger rules, and versions that
are not this DAG's (or not numbers) refused with a message naming them."""

from __future__ import annotations

import pytest

from dagruns.ui.version_diff import source_diff, structure_diff
from tests.builders import serialized, store_dag

pytestmark = pytest.mark.django_db

OLD_SOURCE = "from dagruns.sdk import DAG\n\nextract = 1\ntransform = 2\nload = 3\n"
NEW_SOURCE = 'from dagruns.sdk import DAG\n\nextract = 1\nload = "<b>3</b>"\nreport = 4\n'


@pytest.fixture
def two_versions():
    store_dag(
        "versioned",
        {"extract": ["transform"], "transform": ["load"], "load": []},
        source=OLD_SOURCE,
    )
    return store_dag(
        "versioned",
        {"extract": ["load"], "load": ["report"], "report": []},
        source=NEW_SOURCE,
        task_settings={
            "load": {"task_type": "PythonOperator", "trigger_rule": "none_failed"},
        },
    )


def test_the_diff_shows_the_source_and_structure_changes_between_two_versions(viewer, two_versions):
    response = viewer.get("/dags/versioned/code", {"version": 2, "base": 1})
    assert response.status_code == 200
    html = response.content.decode()
    assert "v1 → v2" in html
    assert '<tr class="diff-removed"><td class="linenos">4</td><td class="linenos"></td>' in html
    assert '<tr class="diff-added"><td class="linenos"></td><td class="linenos">4</td>' in html
    assert "&lt;b&gt;3&lt;/b&gt;" in html and "<b>3</b>" not in html  # escaped
    assert '<span class="n">report</span>' in html  # highlighted by Pygments' classes
    assert "(+2 −2)" in html
    assert 'data-diff="task-added"' in html and "<code>report</code>" in html
    assert 'data-diff="task-removed"' in html and "<code>transform</code>" in html
    assert "operator <code>BashOperator</code> → <code>PythonOperator</code>" in html
    assert "trigger rule <code>all_success</code> → <code>none_failed</code>" in html
    assert "edge <code>extract</code> → <code>transform</code>" in html
    assert "edge <code>load</code> → <code>report</code>" in html


def test_versions_that_are_not_the_dags_are_refused_by_name(viewer, two_versions):
    store_dag("other", source="x = 1\n")
    store_dag("other", source="x = 2\n")
    store_dag("other", source="x = 3\n")
    response = viewer.get("/dags/versioned/code", {"version": 2, "base": 3})
    assert response.status_code == 404
    assert "base: DAG &#x27;versioned&#x27; has no version 3 (its versions: v1–v2)" in (
        response.content.decode()
    )
    response = viewer.get("/dags/versioned/code", {"version": "v2", "base": 1})
    assert response.status_code == 400
    assert "version: &#x27;v2&#x27; is not a version number" in response.content.decode()
    # The plain code view still shows one version.
    assert "extract" in viewer.get("/dags/versioned/code", {"version": 1}).content.decode()


def test_a_few_thousand_lines_are_compared_and_the_structure_of_equal_versions_is_empty():
    old = "".join(f"x{i} = {i}\n" for i in range(5000))
    new = old.replace("x2500 = 2500\n", "x2500 = 0\n")
    diff = source_diff(old, new)
    assert (diff.added, diff.removed) == (1, 1)
    assert diff.hunks[0].header == "@@ -2498,7 +2498,7 @@"
    data = serialized("d", {"a": ["b"], "b": []})
    assert structure_diff(data, data).empty
