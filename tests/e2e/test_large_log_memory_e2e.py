"""A 50 MB log fetched in full from a real API server process (uvicorn, ASGI) streams in
bounded memory: the UI's download, the UI's log view, and the REST API's full_content in
JSON, NDJSON and text. The bound is on the server's peak resident memory (Linux's VmHWM), not
on time. Before streaming, one JSON full_content grew the server by about 250 MB."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from dagruns.api.rest.auth import issue_token
from dagruns.domain import logs
from dagruns.models import TaskInstance
from tests.builders import make_run
from tests.personas import persona
from tests.processes import free_port, peak_rss, server_env, start_api_server, stop

# The log streams from a file: the database serves two row lookups, the same on every engine.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.sqlite_only]

LOG_BYTES = 50 * 1024 * 1024
MAX_GROWTH = 25 * 1024 * 1024  # clearly below the log's size
LINE = "[2024-01-01 10:00:00,250] {{etl.py:12}} INFO - row {:08d} " + "x" * 40


@pytest.fixture
def server(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    port = free_port()
    process = start_api_server(server_env(tmp_path, port), port)
    yield f"http://127.0.0.1:{port}", process
    stop(process)


def write_log(path: Path, size: int) -> int:
    """Runner-style lines up to `size` bytes; returns how many lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    with path.open("w") as handle:
        written = 0
        while written < size:
            block = "".join(LINE.format(lines + i) + "\n" for i in range(10_000))
            handle.write(block)
            written += len(block)
            lines += 10_000
    return lines


def fetch(url: str, headers: dict[str, str], into: Path) -> int:
    """GET `url`, writing the body to `into` as it arrives; returns the byte count."""
    request = urllib.request.Request(url, headers=headers)
    total = 0
    with urllib.request.urlopen(request, timeout=600) as response, into.open("wb") as out:
        assert response.status == 200
        while block := response.read(1024 * 1024):
            out.write(block)
            total += len(block)
    return total


def test_fetching_a_50_mb_log_in_full_does_not_grow_the_api_server_by_its_size(server, tmp_path):
    url, process = server
    run = make_run()
    ti = TaskInstance.objects.get(dag_run=run, task_id="extract")
    TaskInstance.objects.filter(pk=ti.pk).update(state="success", try_number=1)
    ti.refresh_from_db()
    small = TaskInstance.objects.get(dag_run=run, task_id="load")
    TaskInstance.objects.filter(pk=small.pk).update(state="success", try_number=1)
    small.refresh_from_db()
    logs.append_lines(logs.ti_log_path(small), [LINE.format(1)] * 100)
    lines = write_log(logs.ti_log_path(ti), LOG_BYTES)

    viewer = persona("viewer")  # re-creates the role groups a transactional flush removed
    browser = Client()
    browser.force_login(viewer)
    ui = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    rest = {"Authorization": f"Bearer {issue_token(viewer)}"}
    run_id = quote(run.run_id, safe="")
    ui_base = f"{url}/dags/etl/runs/{run_id}/tasks"
    rest_base = f"{url}/api/v2/dags/etl/dagRuns/{run_id}/taskInstances"
    formats = {
        "json": {},
        "ndjson": {"Accept": "application/x-ndjson"},
        "text": {"Accept": "text/plain"},
    }
    out = tmp_path / "body"

    # Warm up every code path on the small log, so the baseline holds what is loaded once.
    fetch(f"{ui_base}/load/logs/1/download", ui, out)
    fetch(f"{ui_base}/extract/logs/1?last=1", ui, out)
    for accept in formats.values():
        fetch(f"{rest_base}/load/logs/1?full_content=true", {**rest, **accept}, out)
    baseline = peak_rss(process.pid)

    assert fetch(f"{ui_base}/extract/logs/1/download", ui, out) == out.stat().st_size
    assert out.stat().st_size == logs.log_size(logs.ti_log_path(ti)) >= LOG_BYTES
    fetch(f"{ui_base}/extract/logs/1?last=1", ui, out)
    grown = {"download and log view": peak_rss(process.pid) - baseline}
    for name, accept in formats.items():
        fetch(f"{rest_base}/extract/logs/1?full_content=true", {**rest, **accept}, out)
        grown[f"REST {name}"] = peak_rss(process.pid) - baseline
        if name == "json":
            body = json.loads(out.read_bytes())
            assert len(body["content"]) == lines and body["continuation_token"] is None
            assert body["content"][-1]["event"].startswith(f"row {lines - 1:08d} ")
        elif name == "ndjson":
            with out.open() as handle:
                assert sum(1 for _ in handle) == lines
        else:
            assert out.stat().st_size == logs.log_size(logs.ti_log_path(ti))
    assert max(grown.values()) < MAX_GROWTH, {k: f"{v / 2**20:.1f} MB" for k, v in grown.items()}
