"""The ASGI entry point: Execution API calls run on a fixed pool of threads (so they keep their
database connections from call to call), every other request through Django's ASGI handler."""

import asyncio
import threading
import uuid

import httpx

from dagruns.api.execution.auth import ExecutionTokenAuth
from orchestrator_site import asgi


def _serve(paths: list[str]) -> list[int]:
    async def calls() -> list[int]:
        transport = httpx.ASGITransport(app=asgi.application.app.application_mapping["http"])
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return [(await client.put(path, json={})).status_code for path in paths]

    return asyncio.run(calls())


def test_execution_api_calls_run_on_the_fixed_pool_of_threads(monkeypatch):
    threads: list[str] = []
    original = ExecutionTokenAuth.__call__

    def recording(self, request):
        threads.append(threading.current_thread().name)
        return original(self, request)

    monkeypatch.setattr(ExecutionTokenAuth, "__call__", recording)
    paths = [f"/execution/task-instances/{uuid.uuid4()}/heartbeat" for _ in range(20)]

    assert _serve(paths) == [401] * 20  # no token: refused, as over any transport
    assert len(threads) == 20
    assert all(name.startswith("WSGI") for name in threads)
    assert len(set(threads)) <= asgi.EXECUTION_API_THREADS


def test_other_requests_are_not_routed_to_the_pool(monkeypatch):
    served: list[object] = []

    async def execution(scope, receive, send):
        served.append(scope["path"])
        raise AssertionError("a page went to the Execution API's pool")

    monkeypatch.setattr(asgi.application.app.application_mapping["http"], "execution", execution)

    # Answered by Django through its ASGI handler: the REST API refuses the method, the other
    # path (the prefix without its slash) does not exist.
    assert _serve(["/api/v2/version", "/executions/x"]) == [405, 404]
    assert served == []


def _recording_execution(monkeypatch) -> list[tuple[dict, bytes]]:
    """Replace the pool with an app that records what it was handed and answers 204."""
    handed: list[tuple[dict, bytes]] = []

    async def execution(scope, receive, send):
        message = await receive()
        handed.append((dict(scope["headers"]), message["body"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    monkeypatch.setattr(asgi.application.app.application_mapping["http"], "execution", execution)
    return handed


async def _chunks(*parts: bytes):
    for part in parts:
        yield part


def _put_chunked(path: str, *parts: bytes) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi.application.app.application_mapping["http"])
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.put(path, content=_chunks(*parts))

    return asyncio.run(call())


def test_the_pool_gets_an_execution_api_call_only_with_its_whole_body_and_real_length(
    monkeypatch,
):
    handed = _recording_execution(monkeypatch)
    # Chunked: no Content-Length announced (a WSGI handler would read such a body as empty).
    response = _put_chunked("/execution/task-instances/x/heartbeat", b'{"hostname":', b' "h"}')
    assert response.status_code == 204
    [(headers, body)] = handed
    assert body == b'{"hostname": "h"}'
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"transfer-encoding" not in headers


def test_a_body_over_the_limit_is_refused_naming_it_before_the_pool_sees_it(
    monkeypatch, orch_settings
):
    orch_settings.request_body_max_size = 64
    handed = _recording_execution(monkeypatch)
    response = _put_chunked("/execution/task-instances/x/heartbeat", b"x" * 40, b"x" * 40)
    assert response.status_code == 413
    assert "ORCH_REQUEST_BODY_MAX_SIZE" in response.json()["detail"]
    assert handed == []
