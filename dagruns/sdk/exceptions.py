"""Exceptions of the DAG-authoring SDK, named as in Apache Airflow so DAG files carry over.

Two families live here:

* task-runtime signals (``AirflowSkipException``, ``AirflowFailException``,
  ``AirflowTaskTimeout``) that operators raise and the task runner interprets;
* definition problems (``DagDefinitionError`` and its subclasses) that the DAG processor
  reports as import errors of the offending file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AirflowException(Exception):
    """Base class of every error the SDK raises on purpose."""


class AirflowSkipException(AirflowException):
    """Raised by a task to end in state ``skipped`` instead of ``success``."""


class AirflowFailException(AirflowException):
    """Raised by a task to fail at once, without using its remaining retries."""


class DagRunAlreadyExists(AirflowException):
    """A run of the DAG with this run id (or logical date) exists already (raised by
    TriggerDagRunOperator, as Airflow's)."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"A DAG Run already exists for DAG {dag_id} with run id {run_id}")
        self.dag_id = dag_id
        self.run_id = run_id


class AirflowTaskTimeout(BaseException):
    """Raised when a task exceeds its ``execution_timeout``.

    A ``BaseException`` (as in Airflow) so that a broad ``except Exception`` in task code
    cannot swallow the timeout.
    """


class AirflowSensorTimeout(AirflowException):
    """A sensor's ``timeout`` passed before its condition was met: the task fails without
    using its retries (skipped instead with ``soft_fail``), as in Airflow."""


class AirflowRescheduleException(AirflowException):
    """Raised by a sensor in ``mode="reschedule"``: end this run of the try as
    ``up_for_reschedule`` and run it again at ``reschedule_date`` (same try number)."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__()
        self.reschedule_date = reschedule_date

    def __str__(self) -> str:
        return f"Task rescheduled to {self.reschedule_date.isoformat()}"


class DownstreamTasksSkipped(AirflowException):
    """Raised by ``SkipMixin.skip()``/``skip_all_except()`` (or an operator itself): the task
    succeeds and the task runner asks the Execution API to skip ``tasks``, its downstream
    tasks: task ids, or ``(task_id, map_index)`` pairs (Airflow 3's signal)."""

    def __init__(self, *, tasks: Sequence[str | tuple[str, int]]) -> None:
        super().__init__()
        self.tasks = tasks


class TemplateRenderError(AirflowException):
    """A template field of a task could not be rendered; the message names task and field."""


class TaskNotFound(AirflowException):
    """A task id was looked up in a DAG that has no such task."""


class DagDefinitionError(AirflowException, ValueError):
    """A DAG file defines something invalid; the processor reports it as an import error.

    Also a ``ValueError`` because every such problem is a bad value written by the author.
    """


class DuplicateTaskIdFound(DagDefinitionError):
    """A task id (or task group id) is used twice in one DAG."""


class AirflowDagCycleException(DagDefinitionError):
    """The task graph of a DAG contains a cycle."""


class AirflowDagDuplicatedIdException(DagDefinitionError):
    """One DAG file defines two different DAG objects with the same dag_id."""


class UnknownExecutorException(DagDefinitionError):
    """A task names an executor (``executor=``) that this deployment does not run (Airflow's
    ``UnknownExecutorException``, raised while the DAG file is parsed)."""


class ParamValidationError(AirflowException, ValueError):
    """A Param value (a default, or a value passed when triggering) fails its JSON schema.

    ``errors`` maps each bad param name to its problem when several were checked at once.
    Not a ``DagDefinitionError``: it is raised at trigger time too, where the DAG is fine
    and the caller's input is not.
    """

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors: dict[str, str] = dict(errors or {})


# -- the task-side API (Variable, Connection, BaseHook, get_current_context) -----------------


class AirflowConfigException(Exception):
    """A configuration key that is not there or cannot be read as asked (``conf.get`` ...).
    A plain Exception, not an AirflowException, as in Airflow 3's shared configuration."""


class AirflowNotFoundException(AirflowException):
    """Something asked for by name does not exist: a connection (``Connection.get``,
    ``BaseHook.get_connection``), as Airflow raises it."""


class ErrorType(StrEnum):
    """What went wrong in a request the task made to the server (Airflow 3's names)."""

    VARIABLE_NOT_FOUND = "VARIABLE_NOT_FOUND"
    CONNECTION_NOT_FOUND = "CONNECTION_NOT_FOUND"
    API_SERVER_ERROR = "API_SERVER_ERROR"
    GENERIC_ERROR = "GENERIC_ERROR"


@dataclass(frozen=True)
class ErrorResponse:
    """The server's answer to a failed request: its type and a detail dict with a message."""

    error: ErrorType
    detail: dict[str, Any] = field(default_factory=dict)


class AirflowRuntimeError(AirflowException):
    """A request the task made at runtime failed (Airflow 3's error: ``e.error.error`` is the
    ErrorType, ``e.error.detail`` the server's detail)."""

    def __init__(self, error: ErrorResponse) -> None:
        self.error = error
        super().__init__(f"{error.error.value}: {error.detail}")


class VariableNotFound(AirflowRuntimeError, KeyError):
    """``Variable.get(key)`` of a key that does not exist, without a default. Airflow 3's
    AirflowRuntimeError (VARIABLE_NOT_FOUND), and a KeyError as Airflow 2 raised, so both
    styles of ``except`` catch it."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            ErrorResponse(ErrorType.VARIABLE_NOT_FOUND, {"message": f"Variable {key} not found"})
        )

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return Exception.__str__(self)


class UnmappableXComTypePushed(AirflowException):
    """A task whose result a mapped task expands over returned something that is neither a
    list nor a dict (Airflow's name)."""

    def __init__(self, value: object) -> None:
        super().__init__(
            f"unmappable return type {type(value).__qualname__!r}: a task whose result a mapped "
            "task expands over must return a list or a dict"
        )


class UnmappableXComLengthPushed(AirflowException):
    """A task whose result a mapped task expands over returned more items than the maximum
    map length (ORCH_MAX_MAP_LENGTH; Airflow's name)."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"unmappable return value length: {length} > {limit} (the maximum map length, "
            "ORCH_MAX_MAP_LENGTH)"
        )


class XComForMappingNotPushed(AirflowException):
    """A task whose result a mapped task expands over returned nothing (Airflow's name)."""

    def __str__(self) -> str:
        return "did not push XCom for task mapping (the task returned None)"


# -- deferral ---------------------------------------------------------------------------


class TaskDeferred(BaseException):
    """Raised by `BaseOperator.defer()`: the try ends `deferred`, its worker slot is freed, and
    the task resumes at `method_name` in a new process when `trigger` fires. A BaseException,
    as in Airflow, so task code's `except Exception` cannot swallow it."""

    def __init__(
        self,
        *,
        trigger: Any,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: Any = None,
    ) -> None:
        super().__init__()
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = kwargs
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<TaskDeferred trigger={self.trigger} method={self.method_name}>"


class TaskDeferralError(AirflowException):
    """The trigger a task deferred on failed (it raised, or could not be loaded)."""


class TaskDeferralTimeout(AirflowException):
    """The deferral's `timeout` passed before the trigger fired."""


class TriggerFailureReason(StrEnum):
    """Why a deferred task resumes into failure (`next_method="__fail__"`); Airflow's values."""

    TRIGGER_TIMEOUT = "Trigger/execution timeout"
    TRIGGER_FAILURE = "Trigger failure"
