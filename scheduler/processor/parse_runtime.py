"""Variables and connections at DAG-parse time, as Airflow 3's DAG processor serves them.

A DAG file may call `Variable.get(...)` (or `Connection.get`, `Variable.set`/`delete`) at its
top level. The parser subprocess has no database: its `ParserRuntime` (installed in the SDK's
runtime seam) sends each call to the processor over the parser's pipe, and waits for the
answer; the processor (`ParsingPool`, in its own process, with the ORM) answers it with
`answer_parse_request`. Writes are audited with the DAG file as the actor's subject.

Pipe frames: the child sends `("request", op, arguments)` and gets back
`("response", ok, value, kind, message)`; its last frame is the parse result (a dict).
"""

from __future__ import annotations

from typing import Any

from dagruns.sdk.exceptions import AirflowException, AirflowNotFoundException, VariableNotFound

REQUEST = "request"
RESPONSE = "response"
NOT_FOUND = "not_found"


def is_request(frame: Any) -> bool:
    return isinstance(frame, tuple) and len(frame) == 3 and frame[0] == REQUEST


class ParserRuntime:
    """The parser subprocess's TaskRuntime: every call is a round trip to the processor."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def _call(self, op: str, **arguments: Any) -> Any:
        self._conn.send((REQUEST, op, arguments))
        _, ok, value, kind, message = self._conn.recv()
        if ok:
            return value
        if kind == NOT_FOUND and op == "get_variable":
            raise VariableNotFound(arguments["key"])
        if kind == NOT_FOUND and op == "get_connection":
            raise AirflowNotFoundException(f"The conn_id `{arguments['conn_id']}` isn't defined")
        raise AirflowException(f"The DAG processor could not {op.replace('_', ' ')}: {message}")

    def get_variable(self, key: str) -> str:
        return self._call("get_variable", key=key)

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        self._call("set_variable", key=key, value=value, description=description)

    def delete_variable(self, key: str) -> None:
        self._call("delete_variable", key=key)

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        return self._call("get_connection", conn_id=conn_id)

    def mask(self, *values: Any) -> None:
        """Nothing to mask: parsing writes no task log (import errors show tracebacks only)."""
