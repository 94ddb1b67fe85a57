"""uvicorn's routine websocket lines are dropped from the server log; its other lines stay."""

from __future__ import annotations

import logging

import pytest

from orchestrator_site.log_filters import QuietWebsocketLines


def _record(msg: str, level: int = logging.INFO, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", level, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    "msg,args",
    [
        ('%s - "WebSocket %s" [accepted]', ("127.0.0.1:5000", "/ws/dags/")),
        ("connection open", ()),
        ("connection closed", ()),
    ],
)
def test_routine_websocket_lines_are_dropped(msg, args):
    assert not QuietWebsocketLines().filter(_record(msg, logging.INFO, *args))


@pytest.mark.parametrize(
    "msg,level",
    [
        ('%s - "WebSocket %s" 403', logging.INFO),
        ("Started server process [%d]", logging.INFO),
        ("connection closed", logging.WARNING),
        ("Exception in ASGI application", logging.ERROR),
    ],
)
def test_everything_else_is_kept(msg, level):
    assert QuietWebsocketLines().filter(_record(msg, level))


def test_the_server_logger_carries_the_filter():
    # Django applied settings.LOGGING when the test run set it up.
    logger = logging.getLogger("uvicorn.error")
    assert any(isinstance(f, QuietWebsocketLines) for f in logger.filters)
