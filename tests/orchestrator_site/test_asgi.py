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
