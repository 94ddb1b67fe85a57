"""The workload: what the scheduler hands an executor and the executor hands the task runner.

A versioned, typed contract (docs/engine.md, "Workload"). It crosses process boundaries as
JSON (`to_json_bytes()`; a forkserver pipe today, a broker message or a pod's argument for the
Celery and Kubernetes executors), and is validated where it enters the runner
(`Workload.parse()`): a workload of an unknown version, with a missing or mistyped field or an
unknown key, is refused with an `InvalidWorkload` naming the fields, before anything is claimed
or run.

The token is the one secret in it. It never appears in `repr()` or in an error message, and
`parse()` wipes a mutable source (bytearray, dict) once the model holds the token, so the
supervisor can keep the only copy (see supervisor.py: the task process never holds it).

Pure pydantic: imported by the engine (which builds workloads) and by the runner (which must
not import Django).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# 2: `priority_weight` (the Celery executor's message priority) and `dag_source_hash`. A runner
# refuses a workload of another version with a message naming both versions.
WORKLOAD_VERSION = 2


class InvalidWorkload(ValueError):
    """The workload cannot be run: unknown version, not JSON, or fields missing or mistyped."""


class Workload(BaseModel):
    """One try of one task instance, as the runner needs it (version 2)."""

    # cache_strings="keys": pydantic-core would otherwise keep short string values (a token
    # could be one) alive in its cache after parsing.
    model_config = ConfigDict(extra="forbid", cache_strings="keys")

    version: Literal[2] = Field(
        description="Contract version; a runner refuses versions it does not know."
    )
    ti_id: str = Field(min_length=1)
    dag_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    task_id: str = Field(min_length=1)
    map_index: int = -1
    try_number: int = Field(ge=1)
    dag_fileloc: str = ""
    dags_folder: str = ""
    # ORCH_PLUGINS_FOLDER: on sys.path, as in Airflow, so a DAG file can import the custom
    # timetable a plugin ships. "": none.
    plugins_folder: str = ""
    # The SHA-256 of the DAG file's bytes as the DAG processor read them for the version the
    # run is pinned to (DagVersion.source_hash). The runner compares it with the file it
    # loads and warns in the try's log when this host's copy differs. None: not known.
    dag_source_hash: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    # repr=False: a workload in a log line or a traceback never shows the token.
    token: str = Field(repr=False)
    api_url: str = Field(min_length=1)
    queue: str = "default"
    # The task's priority_weight: the Celery executor maps it onto the broker's message priority.
    priority_weight: int = 1
    executor_config: dict[str, Any] = Field(default_factory=dict)
    execution_timeout: float | None = Field(default=None, gt=0)
    pool: str = "default_pool"
    heartbeat_interval: float | None = Field(default=None, gt=0)
    # ORCH_TASK_REPORT_RETRY_TIMEOUT: how long the claim and the final report are retried
    # while the Execution API is unreachable (None: the runner's default).
    report_retry_timeout: float | None = Field(default=None, gt=0)

    @classmethod
    def parse(cls, source: Workload | dict[str, Any] | bytes | bytearray | str) -> Workload:
        """Validate a workload from the wire (JSON bytes/str), a dict, or a model.

        A bytearray or dict source is wiped of the token afterwards (the caller's copy of the
        secret would otherwise outlive this call)."""
        if isinstance(source, Workload):
            return source
        try:
            if isinstance(source, dict):
                _check_version(source)
                workload = cls.model_validate(source)
            else:
                workload = cls.model_validate_json(source)
        except ValidationError as exc:
            raise InvalidWorkload(_describe(exc)) from None
        finally:
            _wipe(source)
        return workload

    def to_json_bytes(self) -> bytearray:
        """The wire form: a bytearray, so the receiver can wipe it after parsing."""
        return bytearray(self.model_dump_json().encode("utf-8"))

    def without_token(self) -> Workload:
        """A copy for places that must not hold the secret (the task process, logs)."""
        return self.model_copy(update={"token": ""})

    def label(self) -> str:
        return f"{self.dag_id}.{self.task_id} {self.run_id} try {self.try_number}"


def _check_version(data: dict[str, Any]) -> None:
    version = data.get("version")
    if version != WORKLOAD_VERSION:
        raise InvalidWorkload(_version_problem(version, "version" in data))


def _version_problem(version: Any, present: bool) -> str:
    if not present:
        return f"workload has no 'version' (this runner understands version {WORKLOAD_VERSION})"
    return (
        f"unsupported workload version {version!r} "
        f"(this runner understands version {WORKLOAD_VERSION})"
    )


def _describe(exc: ValidationError) -> str:
    """The problems by field, never the input values (the token is one of them), except the
    version's, which is what the reader needs to see."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "workload"
        if where == "version":
            return _version_problem(error.get("input"), error["type"] != "missing")
        problems.append(f"{where}: {error['msg']}")
    return "invalid workload: " + "; ".join(problems)


def _wipe(source: Any) -> None:
    if isinstance(source, bytearray):
        source[:] = bytes(len(source))
    elif isinstance(source, dict):
        source.pop("token", None)
