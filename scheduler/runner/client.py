"""The task runner's HTTP client of the Execution API (docs/engine.md), on stdlib http.client.

One persistent keep-alive connection, JSON bodies, `Authorization: Bearer <token>`. The server
may hand back a fresh token in the `Refreshed-API-Token` response header (it does so on a
heartbeat once half the token's lifetime is gone); the client swaps it in for every later
call, so a task that runs for hours is never cut off.

Transient failures (connection refused or reset, a keep-alive connection the server closed,
a timeout, 502/503/504) are retried a few times with a short backoff — or, for a call given a
`patience` (the claim, the final report: see ORCH_TASK_REPORT_RETRY_TIMEOUT), with a backoff
doubling up to MAX_BACKOFF until that many seconds have passed, so an API server restart or
outage does not lose a try; everything else becomes an `ExecutionApiError` carrying the status
and the server's `detail`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

REFRESH_HEADER = "Refreshed-API-Token"
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0)
# With `patience` (claim, final report) the pauses keep doubling up to this, until the deadline.
MAX_BACKOFF = 5.0

# What a dropped keep-alive connection, an unreachable server or a timeout looks like from
# http.client: OSError covers refused/reset/broken pipe/timeouts, HTTPException covers
# RemoteDisconnected, BadStatusLine, IncompleteRead, CannotSendRequest ...
_TRANSIENT = (OSError, http.client.HTTPException)


class ExecutionApiError(Exception):
    """A call failed: `status` is the HTTP status (None when the server was unreachable) and
    `detail` the server's `{"detail": ...}` (or the raw body)."""

    def __init__(self, method: str, path: str, status: int | None, detail: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        what = f"HTTP {status}" if status is not None else "unreachable"
        super().__init__(f"{method} {path}: {what}: {_detail_text(detail)}")

    @property
    def message(self) -> str:
        """The server's human-readable reason (its `detail.message`, or the detail itself)."""
        return _detail_text(self.detail)


class ExecutionApiUnreachable(ExecutionApiError):
    """The server could not be reached (or kept failing with 502/503/504) after all retries."""

    def __init__(self, method: str, path: str, reason: str, status: int | None = None) -> None:
        super().__init__(method, path, status, reason)


def _detail_text(detail: Any) -> str:
    if isinstance(detail, dict):
        message = detail.get("message")
        if message:
            return str(message)
        return json.dumps(detail, sort_keys=True)
    return str(detail)


class ExecutionClient:
    """Calls the Execution API for one try; not thread-safe (the supervisor is one thread)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: Iterable[float] = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"api_url must be an http(s) URL, got {api_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = tuple(backoff) or (0.0,)
        self._sleep = sleep
        self._conn: http.client.HTTPConnection | None = None
        # When set, calls made without their own `patience`/`attempts` retry transient
        # failures for this many seconds (the supervisor sets it around the task's requests).
        self.patience: float | None = None

    # -- transport ---------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget_connection(self) -> None:
        """Drop the connection without closing it: for a forked child, whose copy of the
        socket must never be used (the parent keeps talking on it)."""
        self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        patience: float | None = None,
        attempts: int | None = None,
    ) -> tuple[int, Any]:
        """Send one call; returns (status, parsed JSON or None) for 2xx, raises otherwise.

        Transient failures are retried `attempts` times (default: the client's), or, with
        `patience`, for up to that many seconds."""
        url = f"{self.prefix}/execution/{path.lstrip('/')}"
        if query:
            # doseq: a list is the parameter repeated (task_ids=a&task_ids=b).
            url += "?" + urlencode(query, doseq=True)
        payload = None
        if body is not None:
            payload = json.dumps(
                body, separators=(",", ":"), allow_nan=False, ensure_ascii=False
            ).encode("utf-8")
        if patience is None and attempts is None:
            patience = self.patience
        deadline = None if patience is None else time.monotonic() + patience
        tries = max(1, attempts or self.attempts)
        last_problem = ""
        attempt = 0
        paused = 0.0  # what we slept: the deadline holds even when `sleep` is not real time
        started = time.monotonic()
        while True:
            if attempt:
                pause = self._pause(attempt)
                if deadline is None and attempt >= tries:
                    break
                if deadline is not None and (
                    time.monotonic() + pause > deadline or paused + pause > deadline - started
                ):
                    break
                self._sleep(pause)
                paused += pause
            attempt += 1
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
            }
            if payload is not None:
                headers["Content-Type"] = "application/json"
            try:
                conn = self._connection()
                conn.request(method, url, body=payload, headers=headers)
                _quick_ack(conn)
                response = conn.getresponse()
                raw = response.read()
            except _TRANSIENT as exc:
                # The connection is in an unknown state: start over on a fresh one.
                self.close()
                last_problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.will_close:
                self.close()
            fresh = response.getheader(REFRESH_HEADER)
            if fresh:
                self.token = fresh.strip()
            data = _parse(raw)
            status = response.status
            if status in RETRY_STATUSES:
                last_problem = f"HTTP {status}: {_detail_text(_detail(data))}"
                continue
            if status >= 400:
                raise ExecutionApiError(method, url, status, _detail(data))
            return status, data
        raise ExecutionApiUnreachable(
            method, url, f"gave up after {attempt} attempts; last: {last_problem}"
        )

    def _pause(self, attempt: int) -> float:
        """The pause before attempt number `attempt + 1`."""
        if attempt <= len(self.backoff):
            return self.backoff[attempt - 1]
        doublings = min(attempt - len(self.backoff), 16)
        return min(MAX_BACKOFF, max(self.backoff[-1], 0.1) * 2**doublings)

    # -- the calls of docs/engine.md -------------------------------------------------------

    def claim(
        self,
        ti_id: str,
        *,
        hostname: str,
        pid: int,
        start_date: str,
        patience: float | None = None,
    ) -> dict[str, Any]:
        """queued → running; 409 (ExecutionApiError) when it is not queued any more."""
        body = {"hostname": hostname, "pid": pid, "start_date": start_date}
        return self.request("PATCH", f"task-instances/{_q(ti_id)}/run", body, patience=patience)[1]

    def heartbeat(
        self, ti_id: str, *, hostname: str, pid: int, attempts: int | None = None
    ) -> None:
        self.request(
            "PUT",
            f"task-instances/{_q(ti_id)}/heartbeat",
            {"hostname": hostname, "pid": pid},
            attempts=attempts,
        )

    def finish(
        self, ti_id: str, body: dict[str, Any], *, patience: float | None = None
    ) -> dict[str, Any]:
        return self.request("PATCH", f"task-instances/{_q(ti_id)}/state", body, patience=patience)[
            1
        ]

    def send_logs(
        self,
        ti_id: str,
        lines: list[str],
        *,
        patience: float | None = None,
        attempts: int | None = None,
    ) -> None:
        self.request(
            "POST",
            f"task-instances/{_q(ti_id)}/logs",
            {"lines": lines},
            patience=patience,
            attempts=attempts,
        )

    def get_xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1
    ) -> Any:
        path = f"xcoms/{_q(dag_id)}/{_q(run_id)}/{_q(task_id)}/{_q(key)}"
        return self.request("GET", path, query={"map_index": map_index})[1]["value"]

    def set_xcom(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str,
        value: Any,
        map_index: int = -1,
        *,
        mapped_length: int | None = None,
    ) -> None:
        path = f"xcoms/{_q(dag_id)}/{_q(run_id)}/{_q(task_id)}/{_q(key)}"
        query: dict[str, Any] = {"map_index": map_index}
        if mapped_length is not None:
            query["mapped_length"] = mapped_length
        self.request("POST", path, {"value": value}, query=query)

    def get_xcom_sequence(
        self, dag_id: str, run_id: str, task_id: str, key: str, start: int, stop: int | None
    ) -> dict[str, Any]:
        """A slice of a mapped task's values (map-index order) and their count."""
        path = f"xcoms/{_q(dag_id)}/{_q(run_id)}/{_q(task_id)}/{_q(key)}/-/sequence"
        query: dict[str, Any] = {"start": start}
        if stop is not None:
            query["stop"] = stop
        return self.request("GET", path, query=query)[1]

    def get_variable(self, key: str) -> str:
        return self.request("GET", f"variables/{_q(key)}")[1]["value"]

    def put_variable(self, key: str, value: str, description: str | None = None) -> None:
        self.request("PUT", f"variables/{_q(key)}", {"value": value, "description": description})

    def delete_variable(self, key: str) -> None:
        self.request("DELETE", f"variables/{_q(key)}")

    def trigger_dag_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        logical_date: str | None,
        conf: dict[str, Any] | None,
        reset_dag_run: bool,
    ) -> None:
        """Create (or, with reset_dag_run, clear) another DAG's run; 409 when it exists."""
        body = {"logical_date": logical_date, "conf": conf, "reset_dag_run": reset_dag_run}
        self.request("POST", f"dag-runs/{_q(dag_id)}/{_q(run_id)}", body)

    def get_dag_run_state(self, dag_id: str, run_id: str) -> str:
        return self.request("GET", f"dag-runs/{_q(dag_id)}/{_q(run_id)}/state")[1]["state"]

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        """`{"dag_id", "is_paused", "is_active"}` of another DAG, None when it does not exist."""
        try:
            return self.request("GET", f"dags/{_q(dag_id)}")[1]
        except ExecutionApiError as exc:
            if exc.status == 404:
                return None
            raise

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        return self.request("GET", f"connections/{_q(conn_id)}")[1]

    def get_asset_by_name(self, name: str) -> dict[str, Any]:
        """The asset with this name (name, uri, group, extra); 404 when there is none."""
        return self.request("GET", f"assets/by-name?{urlencode({'name': name})}")[1]

    def get_asset_events(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """An asset's events (by name and/or URI), or an alias's (`alias_name`), narrowed by
        `after`, `before`, `ascending` and `limit` as Airflow's Execution API does."""
        fields = {k: v for k, v in query.items() if v is not None}
        if "ascending" in fields:
            fields["ascending"] = "true" if fields["ascending"] else "false"
        if (alias_name := fields.pop("alias_name", None)) is not None:
            fields.pop("uri", None)
            fields["name"] = alias_name
            path = f"asset-events/by-asset-alias?{urlencode(fields)}"
        else:
            path = f"asset-events/by-asset?{urlencode(fields)}"
        return self.request("GET", path)[1]["asset_events"]

    def external_state(self, path: str, query: dict[str, Any]) -> Any:
        """An answer about other DAGs' states (`dag-runs/count`, `task-instances/count`,
        `task-instances/states`); None values are left out of the query."""
        query = {k: v for k, v in query.items() if v is not None}
        return self.request("GET", path, query=query)[1]

    def get_reschedule_start_date(self, ti_id: Any, try_number: int) -> str | None:
        """The ISO start date of the first reschedule since `try_number`, or None."""
        path = f"task-reschedules/{_q(ti_id)}/start_date"
        return self.request("GET", path, query={"try_number": try_number})[1]


def _quick_ack(conn: http.client.HTTPConnection) -> None:
    """Ask Linux to acknowledge the answer's packets at once instead of delaying the ACK.

    Servers that write a response in several small pieces (wsgiref, so Django's runserver and
    test live server) otherwise stall ~40 ms per call in Nagle's algorithm waiting for our
    delayed ACK: with hundreds of log chunks per big log, that is most of the time spent.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None and conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _q(component: Any) -> str:
    return quote(str(component), safe="")


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _detail(data: Any) -> Any:
    if isinstance(data, dict) and "detail" in data:
        return data["detail"]
    return data
