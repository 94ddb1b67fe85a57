"""``TaskInstance`` as DAG code names it in type hints (Airflow 3's ``airflow.sdk.TaskInstance``,
a Protocol of the task instance a running task gets as ``context["ti"]``).

A Protocol, as Airflow's: it types ``def f(ti: TaskInstance)`` and is never instantiated; the
object a task receives is the task runner's own task instance.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from .baseoperator import BaseOperator


class TaskInstance(Protocol):
    """The running try of a task, as task code sees it."""

    task: BaseOperator
    task_id: str
    dag_id: str
    run_id: str
    try_number: int
    map_index: int
    max_tries: int
    start_date: datetime | None

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = "return_value",
        include_prior_dates: bool = False,
        *,
        map_indexes: int | list[int] | tuple[int, ...] | range | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any: ...

    def xcom_push(self, key: str, value: Any) -> None: ...
