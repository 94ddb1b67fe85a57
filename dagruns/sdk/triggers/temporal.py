"""The standard provider's time triggers (`airflow.providers.standard.triggers.temporal`)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from typing import Any

from .base import BaseTrigger, TaskSuccessEvent, TriggerEvent

CLASSPATH = "airflow.providers.standard.triggers.temporal.DateTimeTrigger"


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# The longest single sleep of a time trigger, and the wait under which it sleeps to the moment
# at once instead of half the way.
MAX_SLEEP = 3600.0
LAST_STEP = 1.0


def _next_sleep(remaining: float) -> float:
    """How long a time trigger sleeps with `remaining` seconds to its moment: half of it (a
    few more wake-ups per trigger: about log2 of the wait in seconds), the rest at once when
    it is a second or less, never more than an hour."""
    if remaining <= LAST_STEP:
        return remaining
    return min(max(remaining / 2, LAST_STEP), MAX_SLEEP)


class DateTimeTrigger(BaseTrigger):
    """Fires once `moment` (an aware datetime) has passed; the event's payload is `moment`.

    With `end_from_trigger=True` it yields a TaskSuccessEvent instead: the triggerer marks the
    task successful without resuming it in a worker (its `method_name` is not called)."""

    def __init__(self, moment: datetime.datetime, *, end_from_trigger: bool = False) -> None:
        super().__init__()
        if not isinstance(moment, datetime.datetime):
            raise TypeError(f"Expected datetime.datetime type for moment. Got {type(moment)}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("You cannot pass naive datetimes")
        if not isinstance(end_from_trigger, bool):
            raise TypeError(f"end_from_trigger must be a bool, got {end_from_trigger!r}")
        self.moment = moment.astimezone(datetime.UTC)
        self.end_from_trigger = end_from_trigger

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return CLASSPATH, {"moment": self.moment, "end_from_trigger": self.end_from_trigger}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Airflow sleeps in steps of an hour, a minute, ten seconds, then one second at a
        # time, so it fires up to a second late; we sleep to the moment itself, looking at the
        # wall clock again half-way each time (see _next_sleep): the moment is wall-clock time
        # and asyncio sleeps on the monotonic clock, so a wall clock set forward meanwhile (a
        # host's time being corrected) makes the trigger late by at most a second or half of
        # what was left, not by the whole correction.
        self.log.info("trigger starting")
        while (remaining := (self.moment - _utcnow()).total_seconds()) > 0:
            await asyncio.sleep(_next_sleep(remaining))
        if self.end_from_trigger:
            self.log.info("Sensor time condition reached; marking task successful and exiting")
            yield TaskSuccessEvent()
        else:
            self.log.info("yielding event with payload %r", self.moment)
            yield TriggerEvent(self.moment)


class TimeDeltaTrigger(DateTimeTrigger):
    """Fires `delta` after it was created (in the task); serialized as the DateTimeTrigger of
    that moment, as Airflow does, so a triggerer restart does not restart the wait."""

    def __init__(self, delta: datetime.timedelta, *, end_from_trigger: bool = False) -> None:
        if not isinstance(delta, datetime.timedelta):
            raise TypeError(f"Expected datetime.timedelta type for delta. Got {type(delta)}")
        super().__init__(moment=_utcnow() + delta, end_from_trigger=end_from_trigger)
