"""BranchDayOfWeekOperator: follow one list of tasks on some days of the week, the other
list on the rest (Airflow's ``operators.weekday``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..exceptions import DagDefinitionError
from ..weekday import WeekDay
from .base_branch import BaseBranchOperator
from .datetime import _now


class BranchDayOfWeekOperator(BaseBranchOperator):
    """``follow_task_ids_if_true`` when today (in the DAG's timezone), or the run's logical
    date with ``use_task_logical_date=True``, is one of ``week_day`` (a day name such as
    ``"Monday"``, a `WeekDay`, or a set/list of them); else ``follow_task_ids_if_false``."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self._week_day_num = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError, ValueError) as err:
            # Fails the DAG file's import, naming the task and the bad value.
            raise DagDefinitionError(f"Task {self.task_id!r}: week_day: {err}") from None
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str]:
        if self.use_task_logical_date:
            now = _now(context, True)
        else:
            tz = self.dag.timezone if self.has_dag() else UTC
            now = datetime.now(UTC).astimezone(tz)
        if now.isoweekday() in self._week_day_num:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false
