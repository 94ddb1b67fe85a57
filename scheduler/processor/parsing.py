"""Importing one DAG file and serializing what it defines — the code that runs in the parser
subprocess. It imports the SDK only, never Django or the ORM: DAG files are user code, and a
file that hangs, crashes or corrupts its interpreter must not take the processor with it.

The result is a plain dict (pickled back to the parent):
    {"fileloc", "mtime", "size", "source_hash", "source_code", "duration",
     "vanished": bool, "mentions_dag": bool,
     "dags": [{"dag_id", "serialized", "structure_hash"}],
     "error": None | {"message", "line_number", "stack_trace"}}
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from dagruns.sdk import runtime as sdk_runtime
from dagruns.sdk.dag_loader import import_dag_file
from dagruns.sdk.exceptions import UnknownExecutorException
from dagruns.sdk.serialization import dag_structure_hash, serialize_dag
from scheduler.processor.files import content_hash, mentions_dag
from scheduler.processor.parse_runtime import ParserRuntime


def parse_file(
    path: str, timeout: float, extra_sys_path: list[str], executors: Sequence[str] | None = None
) -> dict[str, Any]:
    """Import `path` and serialize its DAGs. With `executors` (ORCH_EXECUTOR's list), a DAG
    whose task names another executor is refused: an import error of the file naming the task
    (Airflow's UnknownExecutorException at parse time); the file's other DAGs are kept."""
    started = time.monotonic()
    result: dict[str, Any] = {
        "fileloc": path,
        "vanished": False,
        "mentions_dag": True,
        "dags": [],
        "error": None,
        "source_code": "",
        "source_hash": "",
        "mtime": 0.0,
        "size": 0,
    }
    try:
        st = os.stat(path)
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        result["vanished"] = True
        return _finish(result, started)
    except OSError as exc:
        result["error"] = {
            "message": f"cannot read file: {exc}",
            "line_number": None,
            "stack_trace": str(exc),
        }
        return _finish(result, started)
    result.update(mtime=st.st_mtime, size=st.st_size, source_hash=content_hash(data))
    if not mentions_dag(data):
        result["mentions_dag"] = False
        return _finish(result, started)
    result["source_code"] = data.decode("utf-8", errors="replace")

    for entry in reversed(extra_sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        dags = _import_dags(path, timeout)
        refused = unknown_executors(dags, executors) if executors is not None else {}
        result["dags"] = [_serialize(dag, path) for dag in dags if dag.dag_id not in refused]
        if refused:
            result["error"] = _executor_error(list(refused.values()))
    except FileNotFoundError as exc:
        if not os.path.exists(path):  # deleted while we were importing it
            result["vanished"] = True
        else:
            result["error"] = describe_error(exc, path)
    except BaseException as exc:
        result["error"] = describe_error(exc, path)
    return _finish(result, started)


def _finish(result: dict[str, Any], started: float) -> dict[str, Any]:
    result["duration"] = time.monotonic() - started
    return result


def _import_dags(path: str, timeout: float) -> list:
    return import_dag_file(path, timeout)


def _serialize(dag, path: str) -> dict[str, Any]:
    serialized = serialize_dag(dag)
    return {
        "dag_id": dag.dag_id,
        "serialized": serialized,
        "structure_hash": dag_structure_hash(serialized),
    }


def unknown_executors(dags: list, configured: Sequence[str]) -> dict[str, Exception]:
    """dag_id -> the problem of each DAG with a task naming an executor not in `configured`
    (its first such task, as Airflow stops at the first)."""
    problems: dict[str, Exception] = {}
    for dag in dags:
        for task in dag.task_dict.values():
            if task.executor is not None and task.executor not in configured:
                problems[dag.dag_id] = UnknownExecutorException(
                    f"Task {task.task_id!r} of DAG {dag.dag_id!r} asks for executor "
                    f"{task.executor!r}, which is not configured: ORCH_EXECUTOR lists "
                    f"{', '.join(configured)}. Add it to ORCH_EXECUTOR or give the task one "
                    "of these (or no executor, for the default)."
                )
                break
    return problems


def _executor_error(problems: list[Exception]) -> dict[str, Any]:
    lines = [f"{type(problem).__name__}: {problem}" for problem in problems]
    return {"message": lines[0], "line_number": None, "stack_trace": "\n".join(lines)}


def describe_error(exc: BaseException, path: str) -> dict[str, Any]:
    """One line saying what is wrong, the line of the DAG file where it happened (when the
    error came from that file) and a traceback trimmed to the user's frames."""
    line_number = None
    if isinstance(exc, SyntaxError) and exc.filename == path:
        line_number = exc.lineno
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in frames:
        if frame.filename == path:
            line_number = frame.lineno  # the deepest frame in the DAG file wins
    # Drop our own import machinery from the top of the trace: users care about their code.
    user_frames = [
        f
        for f in frames
        if f.filename == path
        or "importlib" not in f.filename
        and not f.filename.endswith(("processor/parsing.py", "sdk/dag_loader.py"))
    ]
    stack = "Traceback (most recent call last):\n" if user_frames else ""
    stack += "".join(traceback.format_list(user_frames))
    stack += "".join(traceback.format_exception_only(type(exc), exc))
    message = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, SyntaxError):
        message = f"SyntaxError: {exc.msg}"
    return {
        "message": message.splitlines()[0] if message else type(exc).__name__,
        "line_number": line_number,
        "stack_trace": stack,
    }


def parse_in_child(
    path: str,
    conn,
    timeout: float,
    extra_sys_path: list[str],
    executors: Sequence[str] | None = None,
) -> None:
    """Entry point of one parser process: lead a new process group (so a timeout kills any
    subprocess the DAG file started too), parse, send the result, exit."""
    os.setpgrp()
    # Top-level Variable.get / Connection.get are answered by the processor over `conn`.
    sdk_runtime.install(ParserRuntime(conn))
    try:
        result = parse_file(path, timeout, extra_sys_path, executors)
    except BaseException as exc:
        result = {
            "fileloc": path,
            "vanished": False,
            "mentions_dag": True,
            "dags": [],
            "error": describe_error(exc, path),
            "source_code": "",
            "source_hash": "",
            "mtime": 0.0,
            "size": 0,
            "duration": 0.0,
        }
    try:
        conn.send(result)
    except Exception as exc:
        conn.send({**result, "dags": [], "error": describe_error(exc, path)})
    conn.close()
    # Skip interpreter teardown: user modules may hang in atexit handlers or thread joins.
    os._exit(0)
