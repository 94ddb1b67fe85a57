"""`GET …/taskInstances/{task_id}/logs/{try_number}`: one try's log, in pages.

Answers in the format the Accept header asks for:
- `application/json` (default): `{"content": [{"event", "timestamp", "level", …}, …],
  "continuation_token": …}` — Airflow's structured log messages, one per line;
- `application/x-ndjson`: one such message per line, the token in the
  `Airflow-Continuation-Token` header (as Airflow);
- `text/plain`: the lines as written, token in the same header (an addition of ours).

The continuation token is a signed byte offset into the try's log file; it is absent once the
try has finished and everything was read (Airflow's `end_of_log`). A running try always gets
a token, so a client can keep tailing it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Path, Router
from ninja.responses import NinjaJSONEncoder

from dagruns.api.rest.auth import require
from dagruns.api.rest.errors import bad_request, not_found
from dagruns.api.rest.routes.task_instances import PREFIX, get_ti
from dagruns.api.rest.schemas.common import DbInt, errors
from dagruns.api.rest.schemas.task_instances import TaskInstancesLogResponse
from dagruns.domain import logs
from dagruns.domain.roles import Role
from dagruns.models import TaskInstanceHistory
from dagruns.models.states import TI_FINISHED, TaskInstanceState

router = Router(tags=["Task Instance"])

TOKEN_SALT = "orchestrator.rest.log-continuation"
CONTINUATION_HEADER = "Airflow-Continuation-Token"
PAGE_BYTES = 256 * 1024
# What the task runner writes: "[2024-01-01 00:00:00,123] {file.py:12} INFO - message".
LINE_RE = re.compile(
    r"^\[(?P<ts>[^\]]+)\] \{(?P<loc>[^}]*)\} (?P<level>[A-Z]+) - (?P<event>.*)$", re.DOTALL
)

LOG_RESPONSES = {
    200: {
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        }
    }
}


def _timestamp(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def structured(line: str) -> dict[str, Any]:
    """A log line as Airflow's StructuredLogMessage (plain lines keep only `event`)."""
    match = LINE_RE.match(line)
    if match is None:
        return {"timestamp": None, "event": line}
    filename, _, lineno = match["loc"].partition(":")
    message: dict[str, Any] = {
        "timestamp": _timestamp(match["ts"]),
        "event": match["event"],
        "level": match["level"].lower(),
        "filename": filename,
    }
    if lineno.isdigit():
        message["lineno"] = int(lineno)
    return message


def _decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        offset = int(data["offset"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise bad_request(
            "Bad Signature. Please use only the tokens provided by the API."
        ) from None
    if offset < 0:
        raise bad_request("Bad Signature. Please use only the tokens provided by the API.")
    return offset


def _try_row(dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int):
    """(row, finished): the live task instance when it is at that try, else its history."""
    ti = get_ti(dag_id, run_id, task_id, map_index)
    if ti.try_number == try_number:
        return ti, ti.state in TI_FINISHED or ti.state in (
            TaskInstanceState.UP_FOR_RETRY,
            TaskInstanceState.UP_FOR_RESCHEDULE,
        )
    history = TaskInstanceHistory.objects.filter(
        task_instance_id=ti.pk, try_number=try_number
    ).first()
    if history is None:
        raise not_found("TaskInstance not found")
    return history, True


@router.get(
    PREFIX + "/{task_id}/logs/{try_number}",
    response={200: TaskInstancesLogResponse, **errors(400, 404)},
    operation_id="get_log",
    openapi_extra={"responses": LOG_RESPONSES},
)
def get_log(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: int = Path(..., gt=0, le=2**31 - 1),  # type: ignore[call-overload]
    full_content: bool = False,
    map_index: DbInt = -1,
    token: str | None = None,
):
    require(request, Role.VIEWER)
    row, finished = _try_row(dag_id, dag_run_id, task_id, try_number, map_index)
    path = logs.ti_log_path(row, try_number)
    accept = request.headers.get("Accept", "")
    if full_content:
        return _full_log(request, path, accept)
    chunk = logs.read_log(path, offset=_decode(token), limit=PAGE_BYTES)
    end_of_log = finished and chunk.eof
    next_token = (
        None if end_of_log else signing.dumps({"offset": chunk.next_offset}, salt=TOKEN_SALT)
    )
    lines = chunk.content.splitlines()
    if _wants_ndjson(accept):
        return _with_token(
            HttpResponse(_ndjson(lines), content_type="application/x-ndjson"), next_token
        )
    if _wants_text(accept):
        response = HttpResponse(chunk.content, content_type="text/plain; charset=utf-8")
        return _with_token(response, next_token)
    return {"content": [structured(line) for line in lines], "continuation_token": next_token}


def _wants_ndjson(accept: str) -> bool:
    return "application/x-ndjson" in accept


def _wants_text(accept: str) -> bool:
    return "text/plain" in accept and "application/json" not in accept


def _ndjson(lines: list[str]) -> str:
    return "".join(json.dumps(structured(line), default=_iso) + "\n" for line in lines)


def _full_log(request: HttpRequest, path, accept: str) -> StreamingHttpResponse:
    """The whole log (`full_content=true`), streamed in pieces of logs.STREAM_CHUNK_BYTES in
    the asked format, so the server's memory does not grow with the log. There is no
    continuation token: the client asked for everything there is (Airflow's end_of_log)."""
    pieces = logs.line_chunks(path)
    body: Iterator[str]
    if _wants_ndjson(accept):
        body, content_type = (_ndjson(p.splitlines()) for p in pieces), "application/x-ndjson"
    elif _wants_text(accept):
        body, content_type = pieces, "text/plain; charset=utf-8"
    else:
        body, content_type = _json_document(pieces), "application/json; charset=utf-8"
    asynchronous = isinstance(request, ASGIRequest)
    return StreamingHttpResponse(logs.streamed(body, asynchronous), content_type=content_type)


def _json_document(pieces: Iterator[str]) -> Iterator[str]:
    """TaskInstancesLogResponse written piece by piece: exactly what the schema would render
    for the whole log (the same structured messages, the same encoder), never all at once."""
    encoder = NinjaJSONEncoder()
    yield '{"content": ['
    first = True
    for piece in pieces:
        items = [encoder.encode(structured(line)) for line in piece.splitlines()]
        if items:
            yield ("" if first else ", ") + ", ".join(items)
            first = False
    yield '], "continuation_token": null}'


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _with_token(response: HttpResponse, token: str | None) -> HttpResponse:
    if token:
        response[CONTINUATION_HEADER] = token
    return response
