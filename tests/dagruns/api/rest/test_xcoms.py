"""XCom entries: list (with `~`) and get with the stored JSON value."""

from __future__ import annotations

import pytest

from dagruns.actions.xcoms import do_set_xcom
from tests.dagruns.api.rest.conftest import RUN_ID, ids

pytestmark = pytest.mark.django_db

TI = f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract"


def test_lists_a_tasks_xcoms_without_values(viewer, world):
    body = viewer.get(f"{TI}/xcomEntries").json()
    assert body["total_entries"] == 1
    entry = body["xcom_entries"][0]
    assert entry["key"] == "return_value" and "value" not in entry
    assert entry["logical_date"] == "2024-01-01T00:00:00Z"


def test_tilde_lists_across_tasks_and_filters_by_key(viewer, world):
    do_set_xcom(world["run"], "load", "count", 7)
    assert viewer.get("/dags/~/dagRuns/~/taskInstances/~/xcomEntries").json()["total_entries"] == 2
    body = viewer.get("/dags/~/dagRuns/~/taskInstances/~/xcomEntries", params={"xcom_key": "count"})
    assert ids(body.json()["xcom_entries"], "task_id") == ["load"]


def test_get_returns_the_json_value_and_stringify_its_text(viewer, world):
    assert viewer.get(f"{TI}/xcomEntries/return_value").json()["value"] == {"rows": 3}
    text = viewer.get(f"{TI}/xcomEntries/return_value", params={"stringify": "true"})
    assert text.json()["value"] == "{'rows': 3}"


def test_keys_with_slashes_and_newlines_are_found(viewer, world):
    do_set_xcom(world["run"], "extract", "a/b\nc", [1])
    assert viewer.get(f"{TI}/xcomEntries/a/b%0Ac").json()["value"] == [1]


def test_a_missing_key_or_map_index_is_404(viewer, world):
    assert viewer.get(f"{TI}/xcomEntries/nope").status_code == 404
    assert viewer.get(f"{TI}/xcomEntries/return_value", params={"map_index": 3}).status_code == 404
