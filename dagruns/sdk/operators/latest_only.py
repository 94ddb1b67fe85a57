"""LatestOnlyOperator: let downstream tasks run only in the latest scheduled run
(Airflow's ``operators.latest_only``)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from croniter import croniter

from ..exceptions import AirflowException
from ..schedule import CronSchedule, DeltaSchedule, NullSchedule, OnceSchedule
from .base_branch import BaseBranchOperator


class LatestOnlyOperator(BaseBranchOperator):
    """Skips its direct downstream tasks unless this run is the latest scheduled one.

    As Airflow: a manual run always proceeds; otherwise the run is the latest when
    ``start of its data interval < now <= end of the next interval the schedule would
    produce``; a run with no next interval (``@once``, past the end_date) proceeds. A run
    without a data interval uses its logical date (else run_after) as a point interval.
    """

    ui_color = "#e9ffdb"

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str]:
        dag_run = context["dag_run"]
        everything = sorted(self.get_direct_relative_ids(upstream=False))
        if getattr(dag_run, "run_type", "manual") == "manual":
            self.log.info("Manually triggered DAG_Run: allowing execution to proceed.")
            return everything
        point = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
        start = getattr(dag_run, "data_interval_start", None) or point
        end = getattr(dag_run, "data_interval_end", None) or point
        if start is None or end is None:
            self.log.info("The run has no dates: allowing execution to proceed.")
            return everything
        right = self._next_interval_end(start, end)
        if right is None:
            self.log.info("Last scheduled execution: allowing execution to proceed.")
            return everything
        now = datetime.now(UTC)
        self.log.info(
            "Checking latest only with left_window: %s right_window: %s now: %s", start, right, now
        )
        if not start < now <= right:
            self.log.info("Not latest execution, skipping downstream.")
            return []
        self.log.info("Latest, allowing execution to proceed.")
        return everything

    def _next_interval_end(self, current_start: datetime, current_end: datetime) -> datetime | None:
        """Where the schedule's next run after this one ends: the next cron fire (in the
        DAG's timezone) or ``end + delta`` (the same for data-interval and trigger
        timetables, because the next interval starts where this one ends), or what a
        timetable object's ``next_dagrun_info`` answers. As in Airflow, the DAG's
        start/end dates do not restrict it."""
        dag = self.dag
        timetable = dag.timetable
        if isinstance(timetable, NullSchedule | OnceSchedule):
            return None
        if isinstance(timetable, CronSchedule):
            local = current_end.astimezone(dag.timezone)
            following: datetime = croniter(timetable.expression, local).get_next(datetime)
            return following.astimezone(UTC)
        if isinstance(timetable, DeltaSchedule):
            return current_end + timetable.delta
        inner = getattr(timetable, "timetable", timetable)  # schedule=<a Timetable object>
        if callable(getattr(inner, "next_dagrun_info", None)):
            return _ask_timetable(inner, current_start, current_end)
        # Nothing accepted is ignored: a schedule we cannot step must not decide "latest".
        raise AirflowException(
            f"Task {self.task_id!r}: LatestOnlyOperator does not support the schedule "
            f"{type(timetable).__name__} of DAG {dag.dag_id!r}"
        )


class _DataInterval(NamedTuple):
    start: datetime
    end: datetime


class _TimeRestriction(NamedTuple):
    earliest: datetime | None
    latest: datetime | None
    catchup: bool


def _ask_timetable(timetable: Any, start: datetime, end: datetime) -> datetime | None:
    """Airflow's question to a timetable: the run after [start, end], not before its end."""
    try:  # the SDK's own interval types where it has them (Airflow's timetable interface)
        base = importlib.import_module("dagruns.sdk.timetables.base")
        interval_type, restriction_type = base.DataInterval, base.TimeRestriction
    except (ImportError, AttributeError):
        interval_type, restriction_type = _DataInterval, _TimeRestriction
    info = timetable.next_dagrun_info(
        last_automated_data_interval=interval_type(start, end),
        restriction=restriction_type(end, None, True),
    )
    return None if info is None else info.data_interval.end
