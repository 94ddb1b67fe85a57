"""Airflow's trigger contract (`airflow.triggers.base`): what a deferred task waits on.

A trigger is constructed in the task (`self.defer(trigger=...)`), turned into
`(classpath, kwargs)` by `serialize()`, stored, and rebuilt from those in the triggerer's child
process as `classpath(**kwargs)`, where its async `run()` is iterated until it yields a
`TriggerEvent`. Trigger code runs in an asyncio loop shared with every other trigger of that
process: it must await, never block (a blocking trigger is reported in the triggerer's log).
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
from collections.abc import AsyncIterator
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
