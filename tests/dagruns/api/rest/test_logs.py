"""Task logs per try: JSON, NDJSON and text, paged with a continuation token."""

from __future__ import annotations

import json

import pytest

from dagruns.api.rest.routes import logs as log_route
from dagruns.domain import logs
from dagruns.models import TaskInstance
from tests.dagruns.api.rest.conftest import RUN_ID

pytestmark = pytest.mark.django_db

LOG = f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract/logs"


def test_json_gives_structured_messages_and_no_token_once_the_try_is_over(viewer, world):
    body = viewer.get(f"{LOG}/1").json()
    assert [m["event"] for m in body["content"]] == ["first line", "second line"]
    assert body["continuation_token"] is None


def test_runner_lines_are_split_into_timestamp_level_and_source(viewer, world):
    logs.append_lines(
        logs.ti_log_path(world["ti"]),
        ["[2024-01-01 10:00:00,250] {etl.py:12} WARNING - careful <b>now</b>"],
    )
    message = viewer.get(f"{LOG}/1").json()["content"][-1]
    assert message["event"] == "careful <b>now</b>"
    assert message["level"] == "warning" and message["filename"] == "etl.py"
    assert message["lineno"] == 12 and message["timestamp"].startswith("2024-01-01T10:00:00.250")


def test_a_running_try_is_paged_with_a_continuation_token(viewer, world, monkeypatch):
    TaskInstance.objects.filter(pk=world["ti"].pk).update(state="running")
    monkeypatch.setattr(log_route, "PAGE_BYTES", 12)
    first = viewer.get(f"{LOG}/1").json()
    assert [m["event"] for m in first["content"]] == ["first line"]
    second = viewer.get(f"{LOG}/1", params={"token": first["continuation_token"]}).json()
    assert [m["event"] for m in second["content"]] == ["second line"]
    # Still running: the reader keeps a token to tail what comes next.
    third = viewer.get(f"{LOG}/1", params={"token": second["continuation_token"]}).json()
    assert third["content"] == [] and third["continuation_token"]
    logs.append_lines(logs.ti_log_path(world["ti"]), ["third"])
    fourth = viewer.get(f"{LOG}/1", params={"token": third["continuation_token"]}).json()
    assert [m["event"] for m in fourth["content"]] == ["third"]


def test_full_content_reads_everything_without_a_token(viewer, world, monkeypatch):
    TaskInstance.objects.filter(pk=world["ti"].pk).update(state="running")
    monkeypatch.setattr(log_route, "PAGE_BYTES", 5)
    body = viewer.get(f"{LOG}/1", params={"full_content": "true"}).json()
    assert len(body["content"]) == 2 and body["continuation_token"] is None


def test_text_and_ndjson_carry_the_token_in_a_header(viewer, world):
    TaskInstance.objects.filter(pk=world["ti"].pk).update(state="running")
    text = viewer.get(f"{LOG}/1", headers={"Accept": "text/plain"})
    assert text.content == b"first line\nsecond line\n"
    assert text["Airflow-Continuation-Token"]
    nd = viewer.get(f"{LOG}/1", headers={"Accept": "application/x-ndjson"})
    lines = [json.loads(line) for line in nd.content.decode().splitlines()]
    assert [m["event"] for m in lines] == ["first line", "second line"]


def test_a_forged_token_is_400(viewer, world):
    response = viewer.get(f"{LOG}/1", params={"token": "offset-999"})
    assert response.status_code == 400


def test_an_unknown_try_is_404_and_try_zero_is_422(viewer, world):
    assert viewer.get(f"{LOG}/5").status_code == 404
    assert viewer.get(f"{LOG}/0").status_code == 422


def test_an_earlier_try_reads_its_own_file(viewer, world):
    ti = world["ti"]
    from dagruns.actions.tries import record_try_history

    record_try_history(ti)
    TaskInstance.objects.filter(pk=ti.pk).update(try_number=2, state="success")
    logs.append_lines(logs.log_path("etl", RUN_ID, "extract", 2), ["try two"])
    assert [m["event"] for m in viewer.get(f"{LOG}/1").json()["content"]] == [
        "first line",
        "second line",
    ]
    assert [m["event"] for m in viewer.get(f"{LOG}/2").json()["content"]] == ["try two"]
