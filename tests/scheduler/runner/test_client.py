"""The Execution API client against a tiny stdlib HTTP server (no Django)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scheduler.runner.client import (
    REFRESH_HEADER,
    ExecutionApiError,
    ExecutionApiUnreachable,
    ExecutionClient,
)

Reply = tuple[int, Any, dict[str, str]]


class FakeServer:
    """Records every request; answers with scripted replies (default 200 {"ok": true})."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[Reply | Callable[[BaseHTTPRequestHandler], None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def log_message(self, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(body) if body else None,
                        "client": self.client_address,
                    }
                )
                reply = server.replies.pop(0) if server.replies else (200, {"ok": True}, {})
                if callable(reply):
                    reply(self)
                    return
                status, payload, headers = reply
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                if data:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server, sleeps) -> Iterator[ExecutionClient]:
    api = ExecutionClient(server.url, "token-1", timeout=5.0, sleep=sleeps.append)
    yield api
    api.close()


def hang_up(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without answering (a server restart, a dropped keep-alive)."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def test_it_sends_bearer_token_and_json_body(server, client):
    client.heartbeat("ti-1", hostname="worker", pid=42)

    request = server.requests[0]
    assert request["method"] == "PUT"
    assert request["path"] == "/execution/task-instances/ti-1/heartbeat"
    assert request["headers"]["Authorization"] == "Bearer token-1"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"hostname": "worker", "pid": 42}


def test_it_keeps_one_connection_alive_across_calls(server, client):
    for _ in range(3):
        client.heartbeat("ti-1", hostname="worker", pid=42)

    assert len({tuple(r["client"]) for r in server.requests}) == 1


def test_it_swaps_in_a_refreshed_token(server, client):
    server.replies = [(204, None, {REFRESH_HEADER: "token-2"})]

    client.heartbeat("ti-1", hostname="worker", pid=42)
    client.send_logs("ti-1", ["a line"])

    assert server.requests[1]["headers"]["Authorization"] == "Bearer token-2"
    assert client.token == "token-2"


def test_it_quotes_path_components_and_sends_map_index(server, client):
    server.replies = [(200, {"key": "return_value", "value": [1, 2]}, {})]

    value = client.get_xcom(
        "etl", "scheduled__2024-01-01T00:00:00+00:00", "extract", "return_value"
    )

    assert value == [1, 2]
    assert server.requests[0]["path"] == (
        "/execution/xcoms/etl/scheduled__2024-01-01T00%3A00%3A00%2B00%3A00/extract/"
        "return_value?map_index=-1"
    )


def test_it_keeps_a_path_prefix_of_the_api_url(server, sleeps):
    api = ExecutionClient(server.url + "/orch/", "t", sleep=sleeps.append)
    server.replies = [(200, {"key": "k", "value": "v"}, {})]

    assert api.get_variable("k") == "v"
    assert server.requests[0]["path"] == "/orch/execution/variables/k"
    api.close()


def test_an_error_status_raises_with_status_and_detail(server, client):
    detail = {"reason": "invalid_state", "previous_state": "success", "message": "not queued"}
    server.replies = [(409, {"detail": detail}, {})]

    with pytest.raises(ExecutionApiError) as raised:
        client.claim("ti-1", hostname="w", pid=1, start_date="2024-01-01T00:00:00+00:00")

    assert raised.value.status == 409
    assert raised.value.detail == detail
    assert raised.value.message == "not queued"
    assert "409" in str(raised.value) and "PATCH" in str(raised.value)


def test_a_plain_string_detail_is_the_message(server, client):
    server.replies = [(413, {"detail": "XCom value is 2000 bytes of JSON, over the limit"}, {})]

    with pytest.raises(ExecutionApiError) as raised:
        client.set_xcom("d", "r", "t", "k", "x" * 2000)

    assert raised.value.status == 413
    assert raised.value.message == "XCom value is 2000 bytes of JSON, over the limit"


def test_client_errors_are_not_retried(server, client, sleeps):
    server.replies = [(404, {"detail": {"reason": "not_found", "message": "no such"}}, {})]

    with pytest.raises(ExecutionApiError):
        client.get_connection("missing")

    assert len(server.requests) == 1
    assert sleeps == []


def test_it_retries_a_dropped_connection_on_a_fresh_one(server, client, sleeps):
    server.replies = [hang_up, (204, None, {})]

    client.heartbeat("ti-1", hostname="worker", pid=42)

    assert len(server.requests) == 2
    assert sleeps == [0.1]


def test_it_retries_service_unavailable_with_backoff(server, client, sleeps):
    server.replies = [(503, {"detail": "busy"}, {}), (502, None, {}), (204, None, {})]

    client.heartbeat("ti-1", hostname="worker", pid=42)

    assert len(server.requests) == 3
    assert sleeps == [0.1, 0.25]


def test_it_gives_up_after_its_attempts_when_the_server_is_unreachable(sleeps):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = ExecutionClient(f"http://127.0.0.1:{port}", "t", attempts=3, sleep=sleeps.append)

    with pytest.raises(ExecutionApiUnreachable) as raised:
        api.heartbeat("ti-1", hostname="w", pid=1)

    assert raised.value.status is None
    assert "3 attempts" in str(raised.value)
    assert sleeps == [0.1, 0.25]


def test_a_nan_in_a_body_is_refused_before_sending(server, client):
    with pytest.raises(ValueError):
        client.set_xcom("d", "r", "t", "k", float("nan"))
    assert server.requests == []


def test_it_rejects_an_api_url_that_is_not_http():
    with pytest.raises(ValueError):
        ExecutionClient("ftp://example.com", "t")


def test_bodies_are_compact_utf8_json(server, client):
    client.send_logs("ti-1", ["héllo €", 'quote " and \\ backslash'])

    request = server.requests[0]
    assert request["body"] == {"lines": ["héllo €", 'quote " and \\ backslash']}
    assert int(request["headers"]["Content-Length"]) == len(
        '{"lines":["héllo €","quote \\" and \\\\ backslash"]}'.encode()
    )


def test_with_patience_transient_failures_are_retried_until_it_runs_out():
    import socket

    from scheduler.runner.client import MAX_BACKOFF, ExecutionApiUnreachable, ExecutionClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept: list[float] = []
    client = ExecutionClient(f"http://127.0.0.1:{port}", "t", attempts=2, sleep=slept.append)

    with pytest.raises(ExecutionApiUnreachable):
        client.request("GET", "variables/x", patience=60.0)

    assert len(slept) > 2, "more attempts than the client's default"
    assert max(slept) == MAX_BACKOFF and sum(slept) <= 60.0
