"""Parsing and validating a DAG's ``schedule`` argument.

The SDK only normalises what the author wrote (cron string, preset, timedelta, ``@once``
or None) into a small value object with a JSON form; turning it into run dates is the
scheduler's job (its timetables read the serialized form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from croniter.croniter import CroniterError
from dateutil.relativedelta import relativedelta

from .exceptions import DagDefinitionError

# Airflow's cron presets; "@once" is handled separately because it has no cron form.
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}


@dataclass(frozen=True)
class NullSchedule:
    """``schedule=None``: the DAG only runs when triggered."""

    can_be_scheduled = False
    summary = "None"

    def serialize(self) -> None:
        return None


@dataclass(frozen=True)
class OnceSchedule:
    """``schedule="@once"``: a single run at the start date."""

    can_be_scheduled = True
    summary = "@once"

    def serialize(self) -> dict[str, Any]:
        return {"type": "once"}


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression, remembered with the preset it came from, if any."""

    expression: str
    preset: str | None = None
    can_be_scheduled = True

    @property
    def summary(self) -> str:
        return self.preset or self.expression

    def serialize(self) -> dict[str, Any]:
        return {"type": "cron", "expression": self.expression, "preset": self.preset}


@dataclass(frozen=True)
class DeltaSchedule:
    """A fixed interval between runs (``schedule=timedelta(...)``, or a
    ``dateutil.relativedelta``, which Airflow accepts alike: months and years step by the
    calendar)."""

    delta: timedelta | relativedelta
    can_be_scheduled = True

    @property
    def summary(self) -> str:
        return str(self.delta)

    def serialize(self) -> dict[str, Any]:
        if isinstance(self.delta, relativedelta):
            from .timetables._delta import encode_delta

            return {"type": "delta", "relativedelta": encode_delta(self.delta)}
        return {"type": "delta", "seconds": self.delta.total_seconds()}


@dataclass(frozen=True, eq=False)
class TimetableSchedule:
    """``schedule=<a Timetable>``: one of Airflow's timetable classes or a custom subclass
    (shipped in a plugin); stored as its class path and its ``serialize()`` output."""

    timetable: Any

    @property
    def can_be_scheduled(self) -> bool:
        return bool(getattr(self.timetable, "can_be_scheduled", True))

    @property
    def summary(self) -> str:
        return str(self.timetable.summary)

    def serialize(self) -> dict[str, Any]:
        stored = getattr(self.timetable, "serialized_form", None)
        if stored is not None:  # an UnregisteredTimetable keeps what it was read from
            return dict(stored)
        cls = type(self.timetable)
        return {
            "type": "timetable",
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "data": self.timetable.serialize(),
        }


Schedule = NullSchedule | OnceSchedule | CronSchedule | DeltaSchedule | TimetableSchedule


def parse_schedule(value: object, dag_id: str = "?") -> Schedule:
    """Normalise a ``schedule`` argument; raise DagDefinitionError naming what is wrong."""
    if value is None:
        return NullSchedule()
    from .assets.definitions import asset_condition_of
    from .timetables.assets import AssetTriggeredTimetable
    from .timetables.base import Timetable
    from .timetables.checks import check_timetable  # the timetables import this module

    condition = asset_condition_of(value, dag_id)
    if condition is not None:
        return TimetableSchedule(AssetTriggeredTimetable(condition))
    if isinstance(value, Timetable):
        return TimetableSchedule(check_timetable(value, dag_id))
    if isinstance(value, timedelta):
        if value.total_seconds() <= 0:
            raise DagDefinitionError(
                f"DAG {dag_id!r}: schedule interval must be positive, got {value}"
            )
        # A pendulum Duration (a timedelta subclass) is kept as a plain timedelta.
        return DeltaSchedule(timedelta(value.days, value.seconds, value.microseconds))
    if isinstance(value, relativedelta):
        now = datetime.now(UTC)
        if now + value <= now:
            raise DagDefinitionError(
                f"DAG {dag_id!r}: schedule interval must be positive, not {value!r}"
            )
        return DeltaSchedule(value)
    if isinstance(value, str):
        text = " ".join(value.split())
        if text == "@once":
            return OnceSchedule()
        if text in CRON_PRESETS:
            return CronSchedule(CRON_PRESETS[text], preset=text)
        return CronSchedule(validate_cron(text, dag_id))
    raise DagDefinitionError(
        f"DAG {dag_id!r}: unsupported schedule {value!r} ({type(value).__name__}); use a cron "
        f"expression, one of {', '.join(['@once', *CRON_PRESETS])}, a timedelta or relativedelta, "
        "a Timetable, "
        "assets (a list or an &/| expression of Asset/AssetAlias) or None"
    )


def validate_cron(expression: str, dag_id: str = "?") -> str:
    # croniter also takes 6/7 fields (seconds, years); a DAG file meaning standard cron
    # would be silently misread, so only the classic five fields are accepted.
    if expression.startswith("@"):
        raise DagDefinitionError(
            f"DAG {dag_id!r}: unknown schedule preset {expression!r}; "
            f"known presets: {', '.join(['@once', *CRON_PRESETS])}"
        )
    fields = expression.split()
    if len(fields) != 5:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: invalid cron expression {expression!r}: "
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    try:
        # get_next also rejects expressions that can never fire, such as "0 0 30 2 *".
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as err:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: invalid cron expression {expression!r}: {err}"
        ) from err
    return expression


def schedule_from_serialized(data: dict[str, Any] | None) -> object:
    """The ``schedule`` argument that reproduces a serialized schedule."""
    if data is None:
        return None
    kind = data.get("type")
    if kind == "once":
        return "@once"
    if kind == "cron":
        return data.get("preset") or data["expression"]
    if kind == "delta":
        if "relativedelta" in data:
            from .timetables._delta import decode_delta

            return decode_delta(data["relativedelta"])
        return timedelta(seconds=data["seconds"])
    if kind == "timetable":
        from .timetables.registry import builtin_timetable

        return builtin_timetable(data)
    raise DagDefinitionError(f"Unknown serialized schedule {data!r}")
