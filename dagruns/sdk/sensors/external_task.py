"""ExternalTaskSensor and ExternalTaskMarker (the standard provider's
``sensors.external_task``): wait for another DAG's run, tasks or task group.

Task code never touches the database: the sensor reads the other DAG's states through the
Execution API (``context["ti"].get_ti_count`` / ``get_task_states`` / ``get_dr_count``,
Airflow 3's runtime task-instance methods). ``deferrable=True`` hands the wait to the
triggerer: the sensor defers on WorkflowTrigger, which polls the same states every
``poll_interval`` with a read-only token, and resumes in ``execute_complete``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..exceptions import AirflowException, AirflowSkipException, DagDefinitionError
from ..operators.empty import EmptyOperator
from ..operators.python import determine_kwargs
from ..triggers.external_task import WorkflowTrigger, count_runs_matching
from .base import BaseSensorOperator

__all__ = ["ExternalTaskMarker", "ExternalTaskSensor", "count_runs_matching"]

TASK_STATES = frozenset(
    {
        "none",
        "scheduled",
        "queued",
        "running",
        "success",
        "failed",
        "up_for_retry",
        "up_for_reschedule",
        "deferred",
        "skipped",
        "upstream_failed",
        "removed",
        "restarting",
    }
)
DAG_STATES = frozenset({"queued", "running", "success", "failed"})


class DuplicateStateError(AirflowException, ValueError):
    """The same state is listed in more than one of allowed, skipped and failed states."""


class ExternalDagFailedError(AirflowException):
    """The external DAG run reached one of the failed states."""


class ExternalTaskFailedError(AirflowException):
    """An external task reached one of the failed states."""


class ExternalTaskGroupFailedError(AirflowException):
    """The external task group reached one of the failed states."""


class ExternalTaskNotFoundError(AirflowException):
    """check_existence: an awaited run has no such task."""


class ExternalTaskGroupNotFoundError(AirflowException):
    """check_existence: an awaited run has no task of the task group."""


class ExternalDagNotFoundError(AirflowException):
    """check_existence (deferrable): the external DAG does not exist."""


class ExternalDagDeletedError(AirflowException):
    """check_existence (deferrable): the external DAG's file is gone."""


class ExternalTaskSensor(BaseSensorOperator):
    """Waits for the run of ``external_dag_id`` with the same logical date (or the one
    ``execution_delta`` earlier, or those ``execution_date_fn`` returns): for its tasks
    ``external_task_id(s)``, its task group ``external_task_group_id``, or the whole run.

    Done when all of them are in ``allowed_states`` (default ``["success"]``); fails at once
    when any is in ``failed_states`` (skipped instead with ``soft_fail``); skipped when any is
    in ``skipped_states``."""

    template_fields: Sequence[str] = (
        "external_dag_id",
        "external_task_id",
        "external_task_ids",
        "external_task_group_id",
    )
    ui_color = "#4db7db"

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        execution_delta: timedelta | None = None,
        execution_date_fn: Callable[..., Any] | None = None,
        check_existence: bool = False,
        poll_interval: float = 2.0,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        where = f"Task {self.task_id!r}"
        self.allowed_states = [str(s) for s in allowed_states] if allowed_states else ["success"]
        self.skipped_states = [str(s) for s in skipped_states] if skipped_states else []
        self.failed_states = [str(s) for s in failed_states] if failed_states else []
        every = self.allowed_states + self.skipped_states + self.failed_states
        total_states = set(every)
        if len(total_states) != len(every):
            raise DuplicateStateError(
                f"{where}: Duplicate values provided across allowed_states, skipped_states and "
                "failed_states."
            )
        external_task_ids = list(external_task_ids) if external_task_ids else None
        if external_task_id is not None and external_task_ids is not None:
            raise DagDefinitionError(
                f"{where}: Only one of `external_task_id` or `external_task_ids` may be provided "
                "to ExternalTaskSensor; use external_task_id or external_task_ids or "
                "external_task_group_id."
            )
        if external_task_id is not None:
            external_task_ids = [external_task_id]
        if external_task_group_id is not None and external_task_ids is not None:
            raise DagDefinitionError(
                f"{where}: Only one of `external_task_group_id` or `external_task_ids` may be "
                "provided to ExternalTaskSensor; use external_task_id or external_task_ids or "
                "external_task_group_id."
            )
        if external_task_ids or external_task_group_id:
            if not total_states <= TASK_STATES:
                raise DagDefinitionError(
                    f"{where}: Valid values for `allowed_states`, `skipped_states` and "
                    "`failed_states` when `external_task_id` or `external_task_ids` or "
                    f"`external_task_group_id` is not `None`: {sorted(TASK_STATES)}"
                )
        elif not total_states <= DAG_STATES:
            raise DagDefinitionError(
                f"{where}: Valid values for `allowed_states`, `skipped_states` and "
                "`failed_states` when `external_task_id` and `external_task_group_id` is "
                f"`None`: {sorted(DAG_STATES)}"
            )
        if execution_delta is not None and execution_date_fn is not None:
            raise DagDefinitionError(
                f"{where}: Only one of `execution_delta` or `execution_date_fn` may be provided "
                "to ExternalTaskSensor; not both."
            )
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = external_task_ids
        self.external_task_group_id = external_task_group_id
        self.check_existence = check_existence
        self._has_checked_existence = False
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.external_dates_filter: str | None = None

    def _get_logical_date(self, context: Mapping[str, Any]) -> datetime:
        logical_date = context.get("logical_date")
        if logical_date:
            return logical_date
        dag_run = context.get("dag_run")
        if dag_run is not None and getattr(dag_run, "run_after", None):
            return dag_run.run_after
        raise ValueError(
            "Either `logical_date` or `dag_run.run_after` must be provided in the context"
        )

    def _get_dttm_filter(self, context: Mapping[str, Any]) -> list[datetime]:
        logical_date = self._get_logical_date(context)
        if self.execution_delta:
            return [logical_date - self.execution_delta]
        if self.execution_date_fn:
            # Airflow passes the logical date first, then whichever context entries (and
            # `context` itself) the function's signature asks for.
            extra = {k: v for k, v in context.items() if k != "logical_date"}
            extra["context"] = context
            fn = self.execution_date_fn
            result = fn(logical_date, **determine_kwargs(fn, [logical_date], extra))
            return list(result) if isinstance(result, list | tuple) else [result]
        return [logical_date]

    @staticmethod
    def _serialize_dttm_filter(dttm_filter: list[datetime]) -> str:
        """The awaited dates as `external_dates_filter` shows them (Airflow's form)."""
        return ",".join(d.isoformat() for d in dttm_filter)

    def poke(self, context: Mapping[str, Any]) -> bool:
        if self.external_task_ids and len(self.external_task_ids) > len(
            set(self.external_task_ids)
        ):
            raise ValueError("Duplicate task_ids passed in external_task_ids parameter")
        dttm_filter = self._get_dttm_filter(context)
        self.external_dates_filter = self._serialize_dttm_filter(dttm_filter)
        if self.external_task_ids:
            what = f"tasks {self.external_task_ids} in dag {self.external_dag_id}"
        elif self.external_task_group_id:
            what = f"task_group '{self.external_task_group_id}' in dag '{self.external_dag_id}'"
        else:
            what = f"DAG '{self.external_dag_id}'"
        self.log.info("Poking for %s on %s ... ", what, self.external_dates_filter)
        ti = context["ti"]
        if self.check_existence and not self._has_checked_existence:
            self._has_checked_existence = self._check_existence(ti, dttm_filter)
        if self.failed_states and self._count(ti, self.failed_states, dttm_filter) > 0:
            self._fail()
        if self.skipped_states and self._count(ti, self.skipped_states, dttm_filter) > 0:
            raise AirflowSkipException(
                f"The external {what} reached a state in our states-to-skip-on list. Skipping."
            )
        return self._count(ti, self.allowed_states, dttm_filter) == len(dttm_filter)

    def _count(self, ti: Any, states: list[str], dttm_filter: list[datetime]) -> float:
        """Runs (of those asked for) in `states`: task counts are normalized per task."""
        if self.external_task_ids:
            count = ti.get_ti_count(
                dag_id=self.external_dag_id,
                task_ids=list(self.external_task_ids),
                logical_dates=dttm_filter,
                states=states,
            )
            return count / len(self.external_task_ids)
        if self.external_task_group_id:
            run_task_states = ti.get_task_states(
                dag_id=self.external_dag_id,
                task_group_id=self.external_task_group_id,
                logical_dates=dttm_filter,
            )
            return count_runs_matching(run_task_states, states)
        return ti.get_dr_count(
            dag_id=self.external_dag_id, logical_dates=dttm_filter, states=states
        )

    def execute(self, context: Mapping[str, Any]) -> Any:
        """Poke (BaseSensorOperator), or with deferrable=True defer on WorkflowTrigger with the
        sensor's timeout (Airflow's: `timeout`, else `execution_timeout`)."""
        if not self.deferrable:
            return super().execute(context)
        timeout_value: float | None = self.timeout
        if not timeout_value and self.execution_timeout:
            timeout_value = self.execution_timeout.total_seconds()
        dttm_filter = self._get_dttm_filter(context)
        self.external_dates_filter = self._serialize_dttm_filter(dttm_filter)
        if self.check_existence:
            self._check_dag_existence(context["ti"], dttm_filter)
        self.defer(
            timeout=timedelta(seconds=timeout_value) if timeout_value else None,
            trigger=WorkflowTrigger(
                external_dag_id=self.external_dag_id,
                external_task_group_id=self.external_task_group_id,
                external_task_ids=self.external_task_ids,
                allowed_states=self.allowed_states,
                failed_states=self.failed_states,
                skipped_states=self.skipped_states,
                poke_interval=self.poll_interval,
                soft_fail=self.soft_fail,
                logical_dates=list(dttm_filter),
                run_ids=None,
                execution_dates=None,
            ),
            method_name="execute_complete",
        )

    def execute_complete(
        self, context: Mapping[str, Any], event: dict[str, Any] | None = None
    ) -> None:
        """Airflow's: resume with the WorkflowTrigger's event."""
        if event is None:
            raise ExternalTaskNotFoundError("No event received from trigger")
        dttm_filter = self._get_dttm_filter(context)
        self.external_dates_filter = self._serialize_dttm_filter(dttm_filter)
        status = event.get("status") if isinstance(event, dict) else None
        if status == "success":
            self.log.info("External tasks %s has executed successfully.", self.external_task_ids)
        elif status == "skipped":
            raise AirflowSkipException("External job has skipped skipping.")
        elif status == "failed":
            if self.soft_fail:
                raise AirflowSkipException("External job has failed skipping.")
            raise ExternalDagFailedError(
                f"External job has failed: {self._failed_what()} reached one of the failed "
                f"states {self.failed_states}."
            )
        else:
            if self.soft_fail:
                raise AirflowSkipException("External job has failed skipping.")
            raise ExternalTaskNotFoundError(
                "Error occurred while trying to retrieve task status. Please, check the "
                "name of executed task and Dag."
            )

    def _failed_what(self) -> str:
        if self.external_task_ids:
            return f"tasks {self.external_task_ids} of DAG {self.external_dag_id}"
        if self.external_task_group_id:
            return f"task group {self.external_task_group_id!r} of DAG {self.external_dag_id}"
        return f"DAG {self.external_dag_id}"

    def _check_dag_existence(self, ti: Any, dttm_filter: list[datetime]) -> None:
        """check_existence before deferring (Airflow's check, through the Execution API): the
        DAG must exist and still have its file; runs that exist must have the tasks."""
        dag = ti.get_dag(self.external_dag_id)
        if dag is None:
            raise ExternalDagNotFoundError(
                f"The external DAG {self.external_dag_id} does not exist."
            )
        if not dag.get("is_active", True):
            raise ExternalDagDeletedError(f"The external DAG {self.external_dag_id} was deleted.")
        self._check_existence(ti, dttm_filter)

    def _check_existence(self, ti: Any, dttm_filter: list[datetime]) -> bool:
        """check_existence (Airflow 3's check through the Execution API): every awaited run
        that exists must have the tasks (or some task of the group); raises naming what is
        missing. False while an awaited run does not exist yet: asked again next poke."""
        all_checked = True
        for date in dttm_filter:
            if ti.get_dr_count(dag_id=self.external_dag_id, logical_dates=[date]) == 0:
                all_checked = False
                continue
            for task_id in self.external_task_ids or ():
                count = ti.get_ti_count(
                    dag_id=self.external_dag_id, task_ids=[task_id], logical_dates=[date]
                )
                if count == 0:
                    raise ExternalTaskNotFoundError(
                        f"The external task {task_id} in Dag {self.external_dag_id} does not "
                        f"exist for run {date.isoformat()}."
                    )
            if self.external_task_group_id:
                run_task_states = ti.get_task_states(
                    dag_id=self.external_dag_id,
                    task_group_id=self.external_task_group_id,
                    logical_dates=[date],
                )
                if not any(run_task_states.values()):
                    raise ExternalTaskGroupNotFoundError(
                        f"The external task group '{self.external_task_group_id}' in Dag "
                        f"'{self.external_dag_id}' does not exist for run {date.isoformat()}."
                    )
        return all_checked

    def _fail(self) -> None:
        if self.external_task_ids:
            message = (
                f"Some of the external tasks {self.external_task_ids} in DAG "
                f"{self.external_dag_id} failed."
            )
            error: type[AirflowException] = ExternalTaskFailedError
        elif self.external_task_group_id:
            message = (
                f"The external task_group '{self.external_task_group_id}' in DAG "
                f"'{self.external_dag_id}' failed."
            )
            error = ExternalTaskGroupFailedError
        else:
            message = f"The external DAG {self.external_dag_id} failed."
            error = ExternalDagFailedError
        if self.soft_fail:
            raise AirflowSkipException(f"{message} Skipping due to soft_fail.")
        raise error(message)


class ExternalTaskMarker(EmptyOperator):
    """Marks that ``external_task_id`` of ``external_dag_id`` depends on this task: clearing
    this task with its downstream also clears that task (at ``logical_date``, templated) and
    its downstream, following further markers up to ``recursion_depth`` levels."""

    template_fields: Sequence[str] = ("external_dag_id", "external_task_id", "logical_date")
    ui_color = "#4db7db"
    # The server reads it when a clear follows the marker (Airflow serializes it too).
    serialized_extra_fields: Sequence[str] = ("recursion_depth",)

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str,
        logical_date: str | datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        if isinstance(logical_date, datetime):
            self.logical_date = logical_date.isoformat()
        elif isinstance(logical_date, str):
            self.logical_date = logical_date
        else:
            raise DagDefinitionError(
                f"Task {self.task_id!r}: Expected str or datetime.datetime type for "
                f"logical_date. Got {type(logical_date).__name__}"
            )
        if (
            isinstance(recursion_depth, bool)
            or not isinstance(recursion_depth, int)
            or recursion_depth <= 0
        ):
            raise DagDefinitionError(
                f"Task {self.task_id!r}: recursion_depth should be a positive integer"
            )
        self.recursion_depth = recursion_depth
