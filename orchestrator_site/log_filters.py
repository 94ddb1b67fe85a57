"""Quieter server logs: every open dashboard page holds a websocket, so uvicorn's INFO lines
for each handshake ("WebSocket /ws/… [accepted]", "connection open", "connection closed")
flooded the API server's log with one to three lines per page view and reconnect. Those three
are dropped; everything else (rejected handshakes, warnings, errors) is kept."""

from __future__ import annotations

import logging

ROUTINE_MESSAGES = frozenset({"connection open", "connection closed"})


class QuietWebsocketLines(logging.Filter):
    """Drops the routine INFO lines of a websocket opening or closing normally."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.msg if isinstance(record.msg, str) else ""
        if message in ROUTINE_MESSAGES:
            return False
        return not ('"WebSocket ' in message and message.endswith("[accepted]"))
