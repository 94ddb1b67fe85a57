"""Task logs: one file per try, written only by the API server (and the scheduler's own lines:
"marked failed because …").

The store is a directory, ORCH_LOG_DIR — with several API-server replicas or hosts, one shared
volume (NFS or the like) mounted at the same path on every API-server and scheduler host; task
runners and workers never need it (they ship lines through the Execution API). A shared volume
rather than the database: logs are append-only byte streams read by offset (a page tails a
growing file from its last byte; a 50 MB log streams in chunks), which a file gives for free and
a table of rows would have to imitate, while keeping the metadata database small and its
retention clean-up cheap. Any replica may take any chunk: each is one locked O_APPEND write
(append_lines), so chunks from two replicas never interleave or overwrite each other.

Airflow's layout under ORCH_LOG_DIR:
`dag_id=<dag>/run_id=<run>/task_id=<task>/[map_index=<i>/]attempt=<n>.log` (the map_index level
only for mapped task instances, as in Airflow's default `log_filename_template`). Every
component is percent-encoded, so run ids with `/`, `:` or `+` stay one safe path component; the
`key=` prefixes mean no component can be `.` or `..`.

Runners ship lines through the Execution API; the UI and the REST API read with `read_log`
(byte offsets, so a page can tail a growing file without re-reading it). A whole log goes out
through `raw_chunks`/`line_chunks` and `streamed`: a few hundred KB in memory at a time,
whatever the log's size (reading a 50 MB log in one piece grew the API server to 250 MB).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import quote

from django.conf import settings

DEFAULT_READ_LIMIT = 1024 * 1024
STREAM_CHUNK_BYTES = 256 * 1024
MAX_LINE_BYTES = 8 * 1024 * 1024
T = TypeVar("T")


class TryKey(Protocol):
    """A TaskInstance or TaskInstanceHistory row."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int


def _component(name: str, value: object) -> str:
    return f"{name}={quote(str(value), safe='')}"


def run_log_dir(dag_id: str, run_id: str) -> Path:
    """The folder holding every log of one DAG run (retention removes it with the run)."""
    return settings.ORCH.log_dir / _component("dag_id", dag_id) / _component("run_id", run_id)


def log_path(dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> Path:
    """Where the log of one try lives (the file may not exist yet)."""
    parts = [_component("task_id", task_id)]
    if map_index >= 0:
        parts.append(_component("map_index", map_index))
    parts.append(f"attempt={int(try_number)}.log")
    return run_log_dir(dag_id, run_id).joinpath(*parts)


def ti_log_path(ti: TryKey, try_number: int | None = None) -> Path:
    """The log of `ti`'s try `try_number` (default: the try it is at)."""
    return log_path(
        ti.dag_id,
        ti.run_id,
        ti.task_id,
        ti.try_number if try_number is None else try_number,
        ti.map_index,
    )


def append_lines(path: Path, lines: Iterable[str]) -> int:
    """Append lines (each ends with exactly one newline) to the file; returns bytes written."""
    data = "".join(line.rstrip("\r\n") + "\n" for line in lines).encode("utf-8", "replace")
    if not data:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() on an O_APPEND descriptor: chunks of two requests never interleave mid-line.
    # Under an exclusive record lock too: on a local disk O_APPEND alone is atomic, but on NFS
    # (ORCH_LOG_DIR shared by several hosts) appends from two clients are not; taking the lock
    # makes the client revalidate the file's size first, so no chunk overwrites another.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)  # released when fd closes
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
    return len(data)


def log_size(path: Path) -> int:
    """Bytes in the log file (0 when the try has not logged anything)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@dataclass(frozen=True)
class LogChunk:
    content: str
    offset: int  # where this chunk starts, in bytes
    next_offset: int  # where the next read should start
    size: int  # the file's size when read

    @property
    def eof(self) -> bool:
        return self.next_offset >= self.size


def read_log(path: Path, offset: int = 0, limit: int = DEFAULT_READ_LIMIT) -> LogChunk:
    """Up to `limit` bytes from byte `offset`, ending at a line boundary when the chunk holds
    at least one whole line (so a tailing reader never sees half a line or half a UTF-8
    character); a single line longer than `limit` is returned in pieces."""
    if offset < 0 or limit < 1:
        raise ValueError("offset must be >= 0 and limit >= 1")
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(min(offset, size))
            data = handle.read(limit)
    except FileNotFoundError:
        return LogChunk(content="", offset=offset, next_offset=offset, size=0)
    start = min(offset, size)
    if len(data) == limit and not data.endswith(b"\n"):
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    return LogChunk(
        content=data.decode("utf-8", "replace"),
        offset=start,
        next_offset=start + len(data),
        size=size,
    )


def raw_chunks(path: Path, size: int | None = None) -> Iterator[bytes]:
    """The file's first `size` bytes (default: its size when the iteration starts; a running
    try's later lines are left for the next read), STREAM_CHUNK_BYTES at a time."""
    with path.open("rb") as handle:
        left = os.fstat(handle.fileno()).st_size if size is None else size
        while left > 0:
            data = handle.read(min(STREAM_CHUNK_BYTES, left))
            if not data:
                return
            left -= len(data)
            yield data


def line_chunks(path: Path) -> Iterator[str]:
    """The log as it is when the iteration starts, as text in pieces of about
    STREAM_CHUNK_BYTES that end on a line boundary. A line longer than a piece is read whole
    (up to MAX_LINE_BYTES, beyond which it is cut, so one endless line cannot take the
    server's memory)."""
    size = log_size(path)
    offset = 0
    limit = STREAM_CHUNK_BYTES
    while offset < size:
        chunk = read_log(path, offset, min(limit, size - offset))
        if chunk.next_offset <= offset:
            return  # the file shrank under us: what was there has been sent
        whole_lines = chunk.content.endswith("\n") or chunk.next_offset >= size
        if not whole_lines and limit < MAX_LINE_BYTES:
            limit = min(limit * 2, MAX_LINE_BYTES)
            continue
        offset = chunk.next_offset
        limit = STREAM_CHUNK_BYTES
        yield chunk.content


async def _in_thread(chunks: Iterator[T]) -> AsyncIterator[T]:
    end = object()
    try:
        while True:
            # Reading and encoding happen in a worker thread: the server's event loop (which
            # also serves websockets and the Execution API) never waits on the disk or on
            # a 50 MB encode.
            part = await asyncio.to_thread(next, chunks, end)
            if part is end:
                return
            yield part  # type: ignore[misc]
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def streamed(chunks: Iterator[T], asynchronous: bool) -> Iterator[T] | AsyncIterator[T]:
    """`chunks` as a response body. Under ASGI it must be an async iterator: Django consumes a
    synchronous one into a list first (the whole log in memory) before sending a byte."""
    return _in_thread(chunks) if asynchronous else chunks
