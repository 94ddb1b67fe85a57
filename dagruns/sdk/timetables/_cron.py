"""Cron arithmetic in a timezone, with DST handled the way Airflow 3 handles it.

croniter only understands naive wall-clock times, so, like Airflow's ``timetables/_cron.py``,
we ask it in the DAG's timezone and then attach the zone ourselves:

* a wall time that does not exist (spring forward, e.g. 02:30 in Europe/Amsterdam on the last
  Sunday of March) is moved forward by the size of the gap, to 03:30 summer time; this is what
  Airflow's ``make_aware`` (pendulum's ``convert``) does, so the day's run is not lost;
* a wall time that happens twice (fall back) is taken at its *second* occurrence (``fold=1``),
  again as Airflow's ``make_aware`` does;
* for schedules that fire every hour (hour field ``*``), the next/previous tick is found by
  adding croniter's wall-clock step in absolute time, so the repeated hour in autumn is not
  skipped and the missing hour in spring is not run twice (Airflow's "fold hour problem"
  workaround, see https://github.com/kiorky/croniter/issues/56).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from cron_descriptor import CasingTypeEnum, ExpressionDescriptor
from croniter import CroniterBadDateError, CroniterError, croniter

# Airflow's ``cron_presets`` (the "Cron Presets" table of
# https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/cron.html),
# declared once, in the SDK that accepts them in DAG files.
from ..exceptions import DagDefinitionError
from ..schedule import CRON_PRESETS
from ..timeutil import parse_timezone, timezone_name

_FIELDS = "minute hour day-of-month month day-of-week"
# A fixed, leap-year-containing origin: "0 0 29 2 *" must validate, "0 0 30 2 *" must not.
_PROBE_ORIGIN = datetime(2000, 1, 1)
# croniter raises its own errors, but leaks plain ones for some malformed input.
_CRONITER_ERRORS = (CroniterError, ValueError, TypeError, KeyError, IndexError)
# Enough croniter steps to get past any DST oddity; never reached by a valid schedule.
_MAX_STEPS = 4


def validate_cron(expression: str) -> None:
    """Raise ValueError, naming ``expression`` and the problem, unless it is a usable cron.

    Accepts the five standard fields (with croniter's extensions such as ``MON#1`` that
    Airflow documents) or one of Airflow's presets.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"Invalid cron expression {expression!r}: it is empty")
    text = expression.strip()
    if text.startswith("@"):
        if text == "@once":
            raise ValueError(
                f"Invalid cron expression {expression!r}: '@once' is a schedule of its own, "
                "not a cron preset"
            )
        if text not in CRON_PRESETS:
            raise ValueError(
                f"Invalid cron expression {expression!r}: unknown preset; "
                f"use one of {', '.join(CRON_PRESETS)}"
            )
        return
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"Invalid cron expression {expression!r}: expected 5 fields ({_FIELDS}), "
            f"got {len(fields)}"
        )
    try:
        probe = croniter(text, _PROBE_ORIGIN)
    except _CRONITER_ERRORS as exc:
        raise ValueError(
            f"Invalid cron expression {expression!r}: {_diagnose(fields) or exc}"
        ) from exc
    try:
        probe.get_next(datetime)
    except CroniterBadDateError as exc:
        raise ValueError(
            f"Invalid cron expression {expression!r}: it never matches any date"
        ) from exc


def _diagnose(fields: list[str]) -> str | None:
    """Name the first field croniter rejects on its own, for a readable error report."""
    for index, name in enumerate(_FIELDS.split()):
        probe = ["*"] * 5
        probe[index] = fields[index]
        try:
            croniter(" ".join(probe))
        except _CRONITER_ERRORS as exc:
            return f"the {name} field {fields[index]!r} is not valid ({exc})"
    return None


def resolve_cron(expression: str) -> str:
    """The five-field form of ``expression`` (presets expanded), after validating it."""
    validate_cron(expression)
    text = expression.strip()
    return CRON_PRESETS.get(text, " ".join(text.split()))


def describe_cron(expression: str) -> str:
    """The schedule in words ("At 00:00"), as Airflow shows it: cron-descriptor, sentence
    casing, 24-hour clock. Returns "" if the descriptor cannot read it (Airflow does too)."""
    try:
        return ExpressionDescriptor(
            expression, casing_type=CasingTypeEnum.Sentence, use_24hour_time_format=True
        ).get_description()
    except Exception:  # the descriptor is cosmetic; never let it break scheduling
        return ""


def load_timezone(zone: str | tzinfo) -> tzinfo:
    """The zone ``zone`` names ("UTC", an IANA name, "+05:30"), or ``zone`` itself if it is
    already a tzinfo (a pendulum timezone, say); ValueError naming it otherwise."""
    if isinstance(zone, tzinfo):
        return zone
    if not isinstance(zone, str):
        raise ValueError(f"Unknown timezone {zone!r}: expected a name or a tzinfo")
    try:
        return parse_timezone(zone)
    except DagDefinitionError as exc:
        raise ValueError(f"Unknown timezone {zone!r}") from exc


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a naive wall time the way Airflow's ``make_aware`` does."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # A ZoneInfo always has an offset; "or" only satisfies the Optional in its type.
    gap = (second.utcoffset() or timedelta(0)) - (first.utcoffset() or timedelta(0))
    if gap > timedelta(0):
        # zoneinfo reports a skipped wall time as fold=1 having the later offset: shift the
        # time forward across the gap (02:30 -> 03:30) instead of back before it.
        return (naive + gap).replace(tzinfo=zone)
    return second  # ambiguous: the second occurrence; otherwise both are equal


class CronMixin:
    """Timezone-aware next/previous cron ticks for the cron timetables (Airflow ``CronMixin``).

    All returned datetimes are in UTC.
    """

    def __init__(self, cron: str, timezone: str | tzinfo = "UTC") -> None:
        self._expression = resolve_cron(cron)
        # Show what the DAG author wrote: "@daily" stays "@daily" in the UI.
        self._summary = cron.strip() if cron.strip() in CRON_PRESETS else self._expression
        self._timezone = load_timezone(timezone)
        self.description = describe_cron(self._expression)
        # croniter normalises a bare "*" hour field to ["*"]: the schedule fires every hour.
        self._every_hour = croniter(self._expression).expanded[1] == ["*"]

    @property
    def expression(self) -> str:
        """The five-field cron expression (presets expanded)."""
        return self._expression

    @property
    def timezone(self) -> tzinfo:
        """The zone the expression is evaluated in."""
        return self._timezone

    @property
    def summary(self) -> str:
        return self._summary

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return (self._expression, self.timezone_name) == (other._expression, other.timezone_name)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._expression, self.timezone_name))

    @property
    def timezone_name(self) -> str:
        """The zone as a name `load_timezone` reads back (for serialization)."""
        return timezone_name(self._timezone)

    def _cron_text(self) -> str:
        """What the author wrote ("@daily" stays a preset), for serialization."""
        return self._summary

    def _wall(self, current: datetime) -> datetime:
        return current.astimezone(self._timezone).replace(tzinfo=None)

    def _step(self, current: datetime, forward: bool) -> datetime:
        naive = self._wall(current)
        it = croniter(self._expression, naive)
        for _ in range(_MAX_STEPS):
            scheduled = it.get_next(datetime) if forward else it.get_prev(datetime)
            shift = scheduled - naive
            if self._every_hour and abs(shift) < timedelta(days=1):
                # Hourly schedules: move by the wall-clock step in absolute time, so each
                # real hour gets exactly one tick across DST changes.
                candidate = current.astimezone(UTC) + shift
            else:
                candidate = localize(scheduled, self._timezone).astimezone(UTC)
            # Gap/fold resolution can land on or behind ``current`` (e.g. the previous tick of
            # 03:30 on spring-forward day is "02:30", which resolves back to 03:30): step again.
            if (candidate > current) if forward else (candidate < current):
                return candidate
        raise RuntimeError(f"cron {self._expression!r} did not advance from {current}")

    def _get_next(self, current: datetime) -> datetime:
        """The first tick strictly after ``current``."""
        return self._step(current, forward=True)

    def _get_prev(self, current: datetime) -> datetime:
        """The last tick strictly before ``current``."""
        return self._step(current, forward=False)

    def _align_to_next(self, current: datetime) -> datetime:
        """``current`` if it is a tick, else the next tick."""
        next_time = self._get_next(current)
        if self._get_prev(next_time) != current:
            return next_time
        return current.astimezone(UTC)

    def _align_to_prev(self, current: datetime) -> datetime:
        """``current`` if it is a tick, else the previous tick."""
        prev_time = self._get_prev(current)
        if self._get_next(prev_time) != current:
            return prev_time
        return current.astimezone(UTC)
