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


def streamed_body(response) -> bytes:
    assert response.streaming, "a whole log is streamed, never built in memory"
    return b"".join(response.streaming_content)


def test_full_content_reads_everything_without_a_token(viewer, world, monkeypatch):
    TaskInstance.objects.filter(pk=world["ti"].pk).update(state="running")
    monkeypatch.setattr(log_route, "PAGE_BYTES", 5)
    body = json.loads(streamed_body(viewer.get(f"{LOG}/1", params={"full_content": "true"})))
    assert len(body["content"]) == 2 and body["continuation_token"] is None


def test_full_content_streamed_in_small_pieces_is_the_document_the_schema_renders(
    viewer, world, monkeypatch
):
    path = logs.ti_log_path(world["ti"])
    logs.append_lines(
        path,
        ["[2024-01-01 10:00:00,250] {etl.py:12} WARNING - careful", "plain ünïcode", "", "end"],
    )
    # The whole log in one page, rendered by the schema (django-ninja's encoder) ...
    whole = viewer.get(f"{LOG}/1").json()
    assert whole["continuation_token"] is None
    # ... equals the streamed document, even when every piece holds a line or less.
    monkeypatch.setattr(logs, "STREAM_CHUNK_BYTES", 7)
    response = viewer.get(f"{LOG}/1", params={"full_content": "true"})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(streamed_body(response)) == whole


def test_full_content_as_text_and_ndjson_streams_every_line(viewer, world):
    params = {"full_content": "true"}
    text = viewer.get(f"{LOG}/1", params=params, headers={"Accept": "text/plain"})
    assert streamed_body(text) == b"first line\nsecond line\n"
    assert "Airflow-Continuation-Token" not in text
    nd = viewer.get(f"{LOG}/1", params=params, headers={"Accept": "application/x-ndjson"})
    events = [json.loads(line)["event"] for line in streamed_body(nd).decode().splitlines()]
    assert events == ["first line", "second line"]


def test_full_content_of_a_try_without_a_log_is_an_empty_document(viewer, world):
    logs.ti_log_path(world["ti"]).unlink()
    body = streamed_body(viewer.get(f"{LOG}/1", params={"full_content": "true"}))
    assert json.loads(body) == {"content": [], "continuation_token": None}


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
