"""LatestOnlyOperator: let downstream tasks run only in the latest scheduled run
(Airflow's ``operators.latest_only``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

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
        right = self._next_interval_end(end)
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

    def _next_interval_end(self, current_end: datetime) -> datetime | None:
        """Where the schedule's next run after this one ends: the next cron fire (in the
        DAG's timezone) or ``end + delta``; the same for data-interval and trigger
        timetables, because the next interval starts where this one ends."""
        dag = self.dag
        timetable = dag.timetable
        limit = dag.end_date
        if isinstance(timetable, NullSchedule | OnceSchedule):
            return None
        if isinstance(timetable, CronSchedule):
            local = current_end.astimezone(dag.timezone)
            following: datetime = croniter(timetable.expression, local).get_next(datetime)
            following = following.astimezone(UTC)
        elif isinstance(timetable, DeltaSchedule):
            following = current_end + timedelta(seconds=timetable.delta.total_seconds())
        else:
            # Nothing accepted is ignored: a schedule we cannot step must not decide "latest".
            raise AirflowException(
                f"Task {self.task_id!r}: LatestOnlyOperator does not support the schedule "
                f"{type(timetable).__name__} of DAG {dag.dag_id!r}"
            )
        if limit is not None and following > limit:
            return None
        return following
