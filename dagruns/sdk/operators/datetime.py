"""BranchDateTimeOperator: follow one list of tasks when the time is inside a window, the
other when it is outside (Airflow's ``operators.datetime``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import DagDefinitionError
from .base_branch import BaseBranchOperator


def _is_target(value: Any) -> bool:
    return value is None or isinstance(value, dt.datetime | dt.time)


class BranchDateTimeOperator(BaseBranchOperator):
    """``follow_task_ids_if_true`` when ``target_lower <= now <= target_upper`` (a missing
    bound is open), else ``follow_task_ids_if_false``.

    ``now`` is the current time, or the run's logical date with
    ``use_task_logical_date=True`` (its ``run_after`` when the run has no logical date).
    Bounds given as ``datetime.time`` are taken on now's date; an upper time earlier than the
    lower one means the window crosses midnight. Naive bounds are in the DAG's timezone.
    """

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: dt.datetime | dt.time | None,
        target_upper: dt.datetime | dt.time | None,
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise DagDefinitionError(
                f"Task {self.task_id!r}: both target_upper and target_lower are None. At least "
                "one must be defined to be compared to the current datetime"
            )
        for name, value in (("target_lower", target_lower), ("target_upper", target_upper)):
            if not _is_target(value):
                raise DagDefinitionError(
                    f"Task {self.task_id!r}: {name} must be a datetime.datetime, a "
                    f"datetime.time or None, got {type(value).__name__}: {value!r}"
                )
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str]:
        now = _now(context, self.use_task_logical_date)
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper)
        tz = self.dag.timezone if self.has_dag() else dt.UTC
        lower, upper = _aware(lower, tz), _aware(upper, tz)
        if upper is not None and upper < now:
            return self.follow_task_ids_if_false
        if lower is not None and lower > now:
            return self.follow_task_ids_if_false
        return self.follow_task_ids_if_true


def _now(context: Mapping[str, Any], use_task_logical_date: bool) -> dt.datetime:
    """The moment a date/week-day branch compares: the run's logical date (else its
    run_after), or the current time."""
    if use_task_logical_date:
        now = context.get("logical_date")
        if not now:
            now = getattr(context.get("dag_run"), "run_after", None)
        if not now:
            raise ValueError("use_task_logical_date=True, but the run has no logical date")
        return _aware(now, dt.UTC)  # type: ignore[return-value]
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    if value is None or (value.tzinfo is not None and value.utcoffset() is not None):
        return value
    return value.replace(tzinfo=tz)


def target_times_as_dates(
    base_date: dt.datetime,
    lower: dt.datetime | dt.time | None,
    upper: dt.datetime | dt.time | None,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The bounds as datetimes: times are put on ``base_date``'s date; when both are times
    and upper < lower, the window ends the next day."""
    if isinstance(lower, dt.datetime) and isinstance(upper, dt.datetime):
        return lower, upper
    lower_dt = dt.datetime.combine(base_date.date(), lower) if isinstance(lower, dt.time) else lower
    upper_dt = dt.datetime.combine(base_date.date(), upper) if isinstance(upper, dt.time) else upper
    if lower_dt is None or upper_dt is None:
        return lower_dt, upper_dt
    if upper_dt < lower_dt:
        upper_dt += dt.timedelta(days=1)
    return lower_dt, upper_dt
