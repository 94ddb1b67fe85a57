"""The seam between DAG code and the process that runs it: who answers `Variable.get`,
`Connection.get` and `get_current_context()`.

The SDK is pure (no HTTP, no database), so it cannot fetch a variable itself. The process that
runs DAG code installs a `TaskRuntime` here: the task runner (scheduler/runner) installs one
that asks its supervisor, which calls the Execution API; the DAG processor's parser installs
one that asks the processor, which reads the database. Where nobody installed one (a Python
shell, the web server), every call raises `NoTaskRuntime` naming what was called.

Module-level state, as Airflow keeps its current context: a task process and a parser process
each run one DAG file's code at a time.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Protocol, TypedDict

from .exceptions import AirflowException


class TaskRuntime(Protocol):
    """What a process running DAG code offers it. Missing keys raise VariableNotFound or
    AirflowNotFoundException; any other failure an AirflowException naming the problem."""

    def get_variable(self, key: str) -> str: ...

    def set_variable(self, key: str, value: str, description: str | None) -> None: ...

    def delete_variable(self, key: str) -> None: ...

    def get_connection(self, conn_id: str) -> dict[str, Any]: ...

    def mask(self, *values: Any) -> None: ...


class NoTaskRuntime(AirflowException, RuntimeError):
    """A task-side call (Variable, Connection, BaseHook) made where no task runs and no DAG
    file is being parsed."""


_runtime: TaskRuntime | None = None
_context: Mapping[str, Any] | None = None
# A runtime for one block of code in one thread or coroutine (`serving`), ahead of the
# process's: the API server tests a connection's hook while other requests run beside it.
_scoped: contextvars.ContextVar[TaskRuntime | None] = contextvars.ContextVar(
    "orchestrator_scoped_runtime", default=None
)


def install(runtime: TaskRuntime | None) -> None:
    """Make `runtime` answer task-side calls in this process (None: nobody does)."""
    global _runtime
    _runtime = runtime


def installed() -> TaskRuntime | None:
    return _runtime


@contextlib.contextmanager
def serving(runtime: TaskRuntime) -> Iterator[None]:
    """Within the block, in this thread or coroutine only, `runtime` answers task-side calls."""
    token = _scoped.set(runtime)
    try:
        yield
    finally:
        _scoped.reset(token)


def current(what: str) -> TaskRuntime:
    """The installed runtime; `what` (e.g. "Variable.get('x')") names the call that needs it."""
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    if _runtime is None:
        raise NoTaskRuntime(
            f"{what} needs a running task (or the DAG processor parsing a DAG file): "
            "nothing in this process serves variables and connections"
        )
    return _runtime


def use_context(context: Mapping[str, Any] | None) -> None:
    """`get_current_context()` returns `context` from now on (None: no task is running). The
    runner sets it once the try's context is built and clears it when the try is over."""
    global _context
    _context = context


class Context(TypedDict, total=False):
    """The type of a task's context (Airflow's `Context`, for annotations such as
    `def execute(self, context: Context)`): the keys scheduler/runner/context.py fills."""

    conn: Any
    dag: Any
    dag_run: Any
    data_interval_end: Any
    data_interval_start: Any
    ds: str
    ds_nodash: str
    exception: Any
    expanded_ti_count: int | None
    inlet_events: Any
    inlets: list[Any]
    logical_date: Any
    macros: Any
    map_index: int
    map_index_template: str | None
    outlet_events: Any
    outlets: list[Any]
    params: dict[str, Any]
    prev_data_interval_end_success: Any
    prev_data_interval_start_success: Any
    prev_end_date_success: Any
    prev_start_date_success: Any
    run_id: str
    start_date: Any
    task: Any
    task_instance: Any
    task_instance_key_str: str
    task_reschedule_count: int
    templates_dict: dict[str, Any] | None
    test_mode: bool
    ti: Any
    triggering_asset_events: Any
    try_number: int | None
    ts: str
    ts_nodash: str
    ts_nodash_with_tz: str
    var: Any


def get_current_context() -> Any:
    """The running task's context (Airflow's `get_current_context`): the same dict the task's
    `execute(context)` receives. Outside a running task: Airflow's RuntimeError."""
    if _context is None:
        raise RuntimeError(
            "Current context was requested but no context was found! "
            "Are you running within an Airflow task?"
        )
    return _context


# -- the parsing context (Airflow's get_parsing_context) ----------------------------------------

PARSING_DAG_ID = "_AIRFLOW_PARSING_CONTEXT_DAG_ID"
PARSING_TASK_ID = "_AIRFLOW_PARSING_CONTEXT_TASK_ID"


class AirflowParsingContext(NamedTuple):
    """Which DAG and task the process importing a DAG file is about to run: both None in the
    DAG processor (which needs every DAG), set in the task runner (which needs one task), so a
    file generating many DAGs can skip the others."""

    dag_id: str | None
    task_id: str | None


def get_parsing_context() -> AirflowParsingContext:
    return AirflowParsingContext(
        dag_id=os.environ.get(PARSING_DAG_ID), task_id=os.environ.get(PARSING_TASK_ID)
    )


@contextlib.contextmanager
def parsing_context(dag_id: str, task_id: str) -> Iterator[None]:
    """`get_parsing_context()` names this task while the runner imports its DAG file (through
    Airflow's environment variables, as Airflow's runner sets them)."""
    saved = {name: os.environ.get(name) for name in (PARSING_DAG_ID, PARSING_TASK_ID)}
    os.environ[PARSING_DAG_ID] = dag_id
    os.environ[PARSING_TASK_ID] = task_id
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
