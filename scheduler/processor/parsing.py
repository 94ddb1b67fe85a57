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

import importlib.util
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from dagruns.sdk.dag import collect_dags, reset_auto_registered
from dagruns.sdk.serialization import dag_structure_hash, serialize_dag
from scheduler.processor.files import content_hash, mentions_dag


class DagImportTimeout(Exception):
    """Raised inside the user's code when importing it took longer than the timeout, so the
    traceback shows the line it was stuck on (Airflow does the same with SIGALRM)."""


def parse_file(path: str, timeout: float, extra_sys_path: list[str]) -> dict[str, Any]:
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
        result["dags"] = [_serialize(dag, path) for dag in dags]
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


def dag_module_name(path: str) -> str:
    """A unique module name per file, as Airflow does, so two files named dag.py never collide."""
    return "orch_dagfile_" + content_hash(path.encode())[:16] + "_" + Path(path).stem


def import_dag_file(path: str, timeout: float | None = None) -> list:
    """Import one DAG file and return the DAGs it defines, validated, with `fileloc` = `path`.

    Shared by the DAG processor and the task runner (scheduler/runner/task_process.py), so a
    task runs exactly the DAG objects the processor saw. With `timeout`, a SIGALRM interrupts
    an import that takes longer (main thread only). The caller puts the DAGs folder on
    sys.path. Raises whatever the file raises, or DuplicateDagIdInFile.
    """
    module_name = dag_module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    reset_auto_registered()
    if timeout is None:
        spec.loader.exec_module(module)
    else:
        previous = signal.signal(signal.SIGALRM, _raise_timeout(timeout))
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            spec.loader.exec_module(module)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    dags = collect_dags(vars(module))
    seen: dict[str, object] = {}
    for dag in dags:
        if dag.dag_id in seen and seen[dag.dag_id] is not dag:
            raise DuplicateDagIdInFile(dag.dag_id, path)
        seen[dag.dag_id] = dag
        dag.fileloc = path
        dag.validate()
    return list(seen.values())


class DuplicateDagIdInFile(Exception):
    def __init__(self, dag_id: str, path: str) -> None:
        super().__init__(f"DAG id {dag_id!r} is defined more than once in {path}")


def _raise_timeout(timeout: float):
    def handler(signum, frame):
        raise DagImportTimeout(
            f"importing the DAG file took longer than {timeout:g} s "
            f"(ORCH_DAG_FILE_PROCESSOR_TIMEOUT)"
        )

    return handler


def _serialize(dag, path: str) -> dict[str, Any]:
    serialized = serialize_dag(dag)
    return {
        "dag_id": dag.dag_id,
        "serialized": serialized,
        "structure_hash": dag_structure_hash(serialized),
    }


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
        and not f.filename.endswith("processor/parsing.py")
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


def parse_in_child(path: str, conn, timeout: float, extra_sys_path: list[str]) -> None:
    """Entry point of one parser process: lead a new process group (so a timeout kills any
    subprocess the DAG file started too), parse, send the result, exit."""
    os.setpgrp()
    try:
        result = parse_file(path, timeout, extra_sys_path)
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
