"""Airflow's trigger contract (`airflow.triggers.base`): what a deferred task waits on.

A trigger is constructed in the task (`self.defer(trigger=...)`), turned into
`(classpath, kwargs)` by `serialize()`, stored, and rebuilt from those in the triggerer's child
process as `classpath(**kwargs)`, where its async `run()` is iterated until it yields a
`TriggerEvent`. Trigger code runs in an asyncio loop shared with every other trigger of that
process: it must await, never block (a blocking trigger is reported in the triggerer's log).

A `TriggerEvent` resumes the task in a worker at its `method_name`; a `TaskSuccessEvent`,
`TaskFailedEvent` or `TaskSkippedEvent` instead ends the task in that state in the triggerer
(Airflow's `end_from_trigger`), pushing the event's `xcoms` first.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


class TriggerEvent:
    """Something a trigger saw; its `payload` reaches the resumed task as `event=`."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"TriggerEvent<{self.payload!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TriggerEvent) and other.payload == self.payload

    __hash__ = None  # type: ignore[assignment]  # mutable payload, compared by value


class BaseTaskEndEvent(TriggerEvent):
    """An event that ends the task in the triggerer, in `task_instance_state`, without
    resuming it in a worker; `xcoms` (key → JSON value) are pushed for the task first.
    Its payload is the state's name, as in Airflow."""

    task_instance_state: str

    def __init__(self, *, xcoms: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if "payload" in kwargs:
            raise ValueError("Param 'payload' not supported for this class.")
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected arguments: {', '.join(sorted(kwargs))}"
            )
        if xcoms is not None and not (
            isinstance(xcoms, dict) and all(isinstance(key, str) for key in xcoms)
        ):
            raise TypeError(f"{type(self).__name__}(xcoms=...) must be a dict with string keys")
        super().__init__(payload=self.task_instance_state)
        self.xcoms = xcoms

    def __repr__(self) -> str:
        return f"{type(self).__name__}<xcoms={self.xcoms!r}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.xcoms == self.xcoms  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class TaskSuccessEvent(BaseTaskEndEvent):
    """Yield this event in order to end the task successfully."""

    task_instance_state = "success"


class TaskFailedEvent(BaseTaskEndEvent):
    """Yield this event in order to end the task with failure (no retry, as in Airflow)."""

    task_instance_state = "failed"


class TaskSkippedEvent(BaseTaskEndEvent):
    """Yield this event in order to end the task with status 'skipped'."""

    task_instance_state = "skipped"


@dataclass
class StartTriggerArgs:
    """Arguments required for start task execution from triggerer (Airflow's): an operator
    class's `start_trigger_args`, used when its task's `start_from_trigger` is true
    (dagruns/sdk/start_trigger.py)."""

    trigger_cls: str
    next_method: str
    trigger_kwargs: dict[str, Any] | None = None
    next_kwargs: dict[str, Any] | None = None
    timeout: timedelta | None = None


class BaseTrigger(abc.ABC):
    """Base class of triggers: write `serialize()` and an async generator `run()`."""

    def __init__(self, **kwargs: Any) -> None:
        # Set by the triggerer (Airflow's attributes of a running trigger).
        self.trigger_id: int | None = None
        self.task_instance: Any = None

    @property
    def log(self) -> logging.Logger:
        cls = type(self)
        return logging.getLogger(f"airflow.triggers.{cls.__module__}.{cls.__name__}")

    @abc.abstractmethod
    def serialize(self) -> tuple[str, dict[str, Any]]:
        """(import path of the class, keyword arguments that rebuild this trigger)."""

    @abc.abstractmethod
    def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait for the condition, then `yield TriggerEvent(payload)`. Only the first event
        is used: the task resumes with it and the trigger is cancelled."""

    async def cleanup(self) -> None:
        """Called after `run()` ends or is cancelled (the task resumed, the trigger moved to
        another triggerer, or the triggerer stops). Nothing to clean up by default."""
        return None

    def __repr__(self) -> str:
        classpath, kwargs = self.serialize()
        return f"<{classpath} {kwargs}>"


class BaseEventTrigger(BaseTrigger):
    """A trigger that may watch an asset (Airflow's `airflow.triggers.base.BaseEventTrigger`):
    in an `AssetWatcher`, each event it yields becomes an event of the asset, and the triggerer
    keeps running it (and starts it again when its `run()` ends) for as long as a DAG is
    scheduled on the asset. Only these triggers may watch assets, as in Airflow."""

    @staticmethod
    def hash(classpath: str, kwargs: dict[str, Any]) -> str:
        """What identifies a watcher's trigger (its class path and encoded kwargs), so the
        DAG processor reuses the stored trigger of an unchanged watcher. Airflow hashes the
        same pair; ours is a stable digest, not Python's per-process `hash()`."""
        text = json.dumps([classpath, kwargs], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
