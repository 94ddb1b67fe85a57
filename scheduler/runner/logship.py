"""Turning the task's output bytes into log lines, and shipping lines in bounded chunks.

Memory stays bounded whatever the task prints: a partial line is cut at MAX_LINE_BYTES, and a
chunk is sent once it holds MAX_LINES lines or MAX_CHUNK_BYTES bytes (or its oldest line is
MAX_DELAY seconds old). While a chunk is being sent the supervisor reads nothing, so a task
printing faster than the server takes lines simply blocks on its full pipe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_LINE_BYTES = 64 * 1024
MAX_LINES = 1000
MAX_CHUNK_BYTES = 256 * 1024
MAX_DELAY = 0.1


class LineSplitter:
    """Bytes in, complete decoded lines out; lines longer than `max_line` come out in pieces."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._partial += data
        lines = []
        start = 0
        buffer = self._partial
        while True:
            newline = buffer.find(b"\n", start, start + self.max_line + 1)
            if newline >= 0:
                lines.append(_decode(buffer[start:newline]))
                start = newline + 1
            elif len(buffer) - start > self.max_line:
                cut = _utf8_boundary(buffer, start + self.max_line, start)
                lines.append(_decode(buffer[start:cut]))
                start = cut
            else:
                break
        del buffer[:start]
        return lines

    def finish(self) -> list[str]:
        """The last, unterminated line (at end of output)."""
        rest = self.feed(b"")
        if self._partial:
            rest.append(_decode(self._partial))
            self._partial.clear()
        return rest


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "replace").rstrip("\r")


def _utf8_boundary(buffer: bytearray, cut: int, floor: int) -> int:
    """Move `cut` back so it does not split a UTF-8 sequence (at most 3 bytes)."""
    for candidate in range(cut, max(floor + 1, cut - 3) - 1, -1):
        if buffer[candidate] & 0xC0 != 0x80:  # not a continuation byte
            return candidate
    return cut


class LogShipper:
    """Collects lines and hands them to `send` in chunks."""

    def __init__(
        self,
        send: Callable[[list[str]], None],
        *,
        max_lines: int = MAX_LINES,
        max_bytes: int = MAX_CHUNK_BYTES,
        max_delay: float = MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.max_delay = max_delay
        self._clock = clock
        self._lines: list[str] = []
        self._bytes = 0
        self._oldest: float | None = None
        self.shipped_lines = 0

    def add(self, line: str) -> None:
        size = len(line.encode("utf-8", "replace")) + 1
        if self._lines and self._bytes + size > self.max_bytes:
            self.flush()
        if not self._lines:
            self._oldest = self._clock()
        self._lines.append(line)
        self._bytes += size
        if len(self._lines) >= self.max_lines or self._bytes >= self.max_bytes:
            self.flush()

    def seconds_until_due(self) -> float | None:
        """How long until the pending lines must go out (None when nothing is pending)."""
        if self._oldest is None:
            return None
        return max(0.0, self._oldest + self.max_delay - self._clock())

    def flush_if_due(self) -> None:
        due = self.seconds_until_due()
        if due is not None and due <= 0:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        lines = self._lines
        self._lines, self._bytes, self._oldest = [], 0, None
        self.shipped_lines += len(lines)
        self._send(lines)

    def take(self) -> list[str]:
        """Hand over the pending lines without sending them (the final state report carries
        them); the next call starts from empty."""
        lines = self._lines
        self._lines, self._bytes, self._oldest = [], 0, None
        self.shipped_lines += len(lines)
        return lines

    def discard(self) -> int:
        dropped = len(self._lines)
        self._lines, self._bytes, self._oldest = [], 0, None
        return dropped
