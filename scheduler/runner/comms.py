"""The control channel between the supervisor and its task process (Airflow 3's "comms").

A socketpair carrying length-prefixed JSON frames (4-byte big-endian length, then UTF-8 JSON).
Each frame is one of the typed messages of scheduler/runner/messages.py: requests and the
result from the task, responses from the supervisor. A frame that is not one of them is a
ProtocolError that names what is wrong.

The task process never holds an HTTP connection: it asks the supervisor, which makes the
Execution API call with the one token it keeps fresh. Every request waits for its response, so
when the supervisor answers a request for a secret (or a "mask" request) the secret is already
registered with its masker, before any line the task could print with it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import struct
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from scheduler.runner import messages as m

HEADER = struct.Struct(">I")
# Bigger than any XCom the server accepts (ORCH_XCOM_MAX_SIZE defaults to 1 MiB); a bound, so
# a runaway task cannot make the supervisor buffer without limit.
MAX_FRAME = 64 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a frame of this protocol."""


class RequestFailed(Exception):
    """The supervisor could not do what the task asked: `status` is the Execution API's HTTP
    status (None when the server was unreachable), `message` the server's reason."""

    def __init__(self, op: str, status: int | None, detail: Any, message: str) -> None:
        super().__init__(message)
        self.op = op
        self.status = status
        self.detail = detail
        self.message = message


class SupervisorGone(Exception):
    """The control channel closed: the supervisor died or killed us."""


def encode(message: BaseModel | dict[str, Any]) -> bytes:
    body = message.model_dump() if isinstance(message, BaseModel) else message
    data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ValueError(f"message of {len(data)} bytes exceeds the {MAX_FRAME}-byte frame limit")
    return HEADER.pack(len(data)) + data


def send(sock: socket.socket, message: BaseModel | dict[str, Any]) -> None:
    sock.sendall(encode(message))


def decode(payload: bytes, adapter: TypeAdapter[Any]) -> Any:
    """One frame's JSON to its typed message; ProtocolError names the offending fields."""
    try:
        return adapter.validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'frame'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ProtocolError(f"not a valid message: {problems}") from None


class FrameReader:
    """Reassembles frames from bytes read in arbitrary pieces into typed messages (the
    supervisor's side: requests and the result)."""

    def __init__(self, adapter: TypeAdapter[Any] = m.TO_SUPERVISOR) -> None:
        self._buffer = bytearray()
        self._adapter = adapter

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > MAX_FRAME:
                raise ProtocolError(f"frame of {length} bytes exceeds the limit")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[HEADER.size : end])
            del self._buffer[:end]
            messages.append(decode(payload, self._adapter))
        return messages


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1024 * 1024))
        if not chunk:
            raise SupervisorGone("the supervisor closed the control channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, adapter: TypeAdapter[Any] = m.TO_TASK) -> Any:
    """Read exactly one frame (blocking) as a typed message (by default a Response)."""
    (length,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes exceeds the limit")
    return decode(_recv_exactly(sock, length), adapter)


class SupervisorComms:
    """The task process's end: synchronous requests, safe to use from several threads."""

    def __init__(
        self,
        sock: socket.socket,
        guard: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        self.sock = sock
        # Entered around every exchange: the task process defers its SIGTERM handler there,
        # since an exception raised mid-frame would leave the channel out of step.
        self._guard = guard
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def request(self, op: str, **arguments: Any) -> Any:
        model = m.REQUESTS.get(op)
        if model is None:
            raise ValueError(f"unknown request {op!r} (known: {', '.join(sorted(m.REQUESTS))})")
        with self._guard(), self._lock:
            request_id = next(self._ids)
            message = model(id=request_id, **arguments)
            try:
                send(self.sock, message)
                while True:
                    response = recv(self.sock)
                    if response.id == request_id:
                        break
            except OSError as exc:
                raise SupervisorGone(f"the control channel failed: {exc}") from None
        if response.ok:
            return response.value
        raise RequestFailed(op, response.status, response.detail, response.message or "failed")

    def mask(self, *values: Any) -> None:
        """Have the supervisor mask these values in the log from now on (returns once it has
        registered them, so a line printed afterwards is always masked)."""
        self.request("mask", values=[v for v in values if v not in (None, "")])

    def send_result(self, result: m.TaskResult) -> None:
        with self._guard(), self._lock:
            send(self.sock, result)
