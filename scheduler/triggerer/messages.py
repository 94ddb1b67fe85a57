"""The typed messages between the triggerer and its trigger runner child (one JSON per line).

Pure pydantic, no Django: both ends import it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartTrigger(_Message):
    """Build `classpath(**kwargs)` (kwargs encoded by dagruns/sdk/triggers/serde.py) and run it."""

    op: Literal["start"] = "start"
    trigger_id: int
    classpath: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    # A read-only Execution API token for the trigger's deferred try ("trigger" scope): what
    # WorkflowTrigger and DagStateTrigger read other DAGs' states with. None: no task instance.
    api_token: str | None = None
    # An asset watcher's trigger: every event counts, not only the first, and it runs until
    # its `run()` ends (then TriggerEnded) or it is cancelled.
    watcher: bool = False


class RefreshToken(_Message):
    """A fresh token for a running trigger, before its current one expires."""

    op: Literal["token"] = "token"
    trigger_id: int
    api_token: str


class CancelTrigger(_Message):
    """Stop running the trigger (its task resumed, was cleared, or another triggerer has it)."""

    op: Literal["cancel"] = "cancel"
    trigger_id: int


class TriggerFired(_Message):
    """The trigger yielded its first event (payload encoded); it has been stopped."""

    op: Literal["fired"] = "fired"
    trigger_id: int
    payload: Any = None


class TriggerFailed(_Message):
    """The trigger could not be built, raised, or ended without an event; it has stopped."""

    op: Literal["failed"] = "failed"
    trigger_id: int
    traceback: list[str]


class TriggerEnded(_Message):
    """A watcher's trigger returned after yielding its events; it has stopped (the
    triggerer starts it again while the asset is watched, as Airflow's does)."""

    op: Literal["ended"] = "ended"
    trigger_id: int


class TriggerLogs(_Message):
    """Log lines a trigger wrote (formatted): they belong in its task's log, as in Airflow."""

    op: Literal["logs"] = "logs"
    trigger_id: int
    lines: list[str]


ToRunner = Annotated[StartTrigger | CancelTrigger | RefreshToken, Field(discriminator="op")]
FromRunner = Annotated[
    TriggerFired | TriggerFailed | TriggerEnded | TriggerLogs, Field(discriminator="op")
]
TO_RUNNER: TypeAdapter[Any] = TypeAdapter(ToRunner)
FROM_RUNNER: TypeAdapter[Any] = TypeAdapter(FromRunner)


def frame(message: _Message) -> bytes:
    return message.model_dump_json().encode() + b"\n"
