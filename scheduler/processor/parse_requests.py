"""The processor's side of DAG-parse-time variable and connection calls (parse_runtime.py):
reads from the database, writes through the same actions as the REST API, audited."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from dagruns.actions import variables
from dagruns.actions.audit import Actor
from dagruns.models import Connection, Variable
from scheduler.processor.parse_runtime import NOT_FOUND, RESPONSE

log = logging.getLogger(__name__)


def answer_parse_request(path: str, op: str, arguments: dict[str, Any]) -> tuple:
    """The response frame to a parser's request made while importing `path`."""
    try:
        return (RESPONSE, True, _perform(path, op, arguments), None, None)
    except LookupError as exc:
        return (RESPONSE, False, None, NOT_FOUND, str(exc))
    except (variables.VariableError, ValueError, TypeError, KeyError) as exc:
        return (RESPONSE, False, None, "invalid", str(exc))
    except Exception as exc:  # a broken request must fail that file, never the processor
        log.exception("answering %s from %s failed", op, path)
        return (RESPONSE, False, None, "error", f"{type(exc).__name__}: {exc}")


def _perform(path: str, op: str, arguments: dict[str, Any]) -> Any:
    actor = Actor(name=f"dag_processor:{path}")
    if op == "get_variable":
        variable = Variable.objects.filter(key=arguments["key"]).first()
        if variable is None:
            raise LookupError(f"Variable {arguments['key']} not found")
        return variable.val
    if op == "set_variable":
        description = arguments.get("description")
        variables.do_set_variable(
            arguments["key"],
            arguments["value"],
            actor,
            description=variables.UNSET if description is None else description,
        )
        return None
    if op == "delete_variable":
        # As in Airflow: deleting what is not there is no error.
        with contextlib.suppress(variables.VariableNotFound):
            variables.do_delete_variable(arguments["key"], actor)
        return None
    if op == "get_connection":
        conn = Connection.objects.filter(conn_id=arguments["conn_id"]).first()
        if conn is None:
            raise LookupError(f"Connection {arguments['conn_id']} not found")
        return {
            "conn_id": conn.conn_id,
            "conn_type": conn.conn_type,
            "host": conn.host or None,
            "schema": conn.schema or None,
            "login": conn.login or None,
            "password": conn.password or None,
            "port": conn.port,
            "extra": conn.extra or None,
        }
    raise ValueError(f"unknown request {op!r}")
