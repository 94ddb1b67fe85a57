"""TriggerDagRunOperator: start a run of another DAG, optionally wait for it to finish
(Airflow's ``providers.standard.operators.trigger_dagrun``).

Task code never touches the database: the run is created, cleared (``reset_dag_run``) and
watched through the task runner's Execution API calls (the runtime seam, dagruns/sdk/
runtime.py), as Airflow 3's task runner does when the operator raises DagRunTriggerException.
The new run records the task instance that triggered it; the UI links the two runs (Airflow's
"Triggered DAG" operator link). With ``wait_for_completion=True, deferrable=True`` the wait is
handed to the triggerer: the task defers on DagStateTrigger (Airflow 3's arguments: the allowed
and failed states, the run id and its logical date, ``poll_interval=poke_interval``) and ends
in ``execute_complete``, failing with Airflow's message when the run ended in a failed state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .. import runtime
from ..baseoperator import BaseOperator
from ..exceptions import AirflowException, AirflowSkipException, DagRunAlreadyExists
from ..triggers.external_task import DagStateTrigger

XCOM_LOGICAL_DATE_ISO = "trigger_logical_date_iso"
XCOM_RUN_ID = "trigger_run_id"

_NOTSET: Any = object()  # Airflow's NOTSET: no logical_date given means "now"


class TriggerDagRunOperator(BaseOperator):
    """Triggers a run of ``trigger_dag_id``, with Airflow 3's arguments and behaviour."""

    template_fields: Sequence[str] = (
        "trigger_dag_id",
        "trigger_run_id",
        "logical_date",
        "conf",
        "wait_for_completion",
        "skip_when_already_exists",
    )
    template_fields_renderers = {"conf": "py"}
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict | None = None,
        logical_date: str | datetime | None = _NOTSET,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: int | float = 60,
        allowed_states: Sequence[str] | None = None,
        failed_states: Sequence[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        task_id = kwargs.get("task_id", "?")
        if logical_date is not _NOTSET and not isinstance(logical_date, str | datetime | None):
            raise TypeError(
                f"Task {task_id!r}: expected str, datetime or None as logical_date, got "
                f"{type(logical_date).__name__}"
            )
        if isinstance(poke_interval, bool) or not isinstance(poke_interval, int | float):
            raise TypeError(f"Task {task_id!r}: poke_interval must be a number of seconds")
        if poke_interval < 0:
            raise ValueError(f"Task {task_id!r}: poke_interval must not be negative")
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        # Not given: the run's logical date is the moment it is triggered (Airflow's NOTSET);
        # None (given) is a run without a logical date.
        self._logical_date_is_now = logical_date is _NOTSET
        self.logical_date = None if logical_date is _NOTSET else logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [str(s) for s in (allowed_states or ["success"])]
        self.failed_states = [str(s) for s in (failed_states or ["failed"])]
        self.skip_when_already_exists = skip_when_already_exists
        self.deferrable = deferrable

    def _logical_date(self) -> datetime | None:
        if self._logical_date_is_now:
            return datetime.now(UTC)
        if self.logical_date is None or isinstance(self.logical_date, datetime):
            value = self.logical_date
        else:
            try:
                value = datetime.fromisoformat(str(self.logical_date).replace("Z", "+00:00"))
            except ValueError:
                raise AirflowException(
                    f"logical_date {self.logical_date!r} is not an ISO-8601 date"
                ) from None
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def execute(self, context: Mapping[str, Any]) -> None:
        logical_date = self._logical_date()
        conf = self.conf or {}
        try:
            json.dumps(conf)
        except TypeError:
            raise AirflowException("conf parameter should be JSON Serializable") from None
        if not isinstance(conf, dict):
            raise AirflowException(f"conf must be a dict, not {type(conf).__name__}")
        run_id = str(self.trigger_run_id) if self.trigger_run_id else _manual_run_id(logical_date)
        seam = runtime.current(f"TriggerDagRunOperator({self.trigger_dag_id!r})")
        trigger = getattr(seam, "trigger_dag_run", None)
        if trigger is None:
            raise AirflowException("TriggerDagRunOperator can only run inside a task")
        try:
            trigger(
                self.trigger_dag_id,
                run_id,
                logical_date=logical_date.isoformat() if logical_date else None,
                conf=conf,
                reset_dag_run=self.reset_dag_run,
            )
        except DagRunAlreadyExists:
            if self.skip_when_already_exists:
                raise AirflowSkipException(
                    "Dag run already exists, skipping task as skip_when_already_exists is set "
                    "to True."
                ) from None
            raise
        self.log.info("Triggered DAG %s with run_id %s", self.trigger_dag_id, run_id)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        if logical_date is not None:
            ti.xcom_push(key=XCOM_LOGICAL_DATE_ISO, value=logical_date.isoformat())
        if self.wait_for_completion:
            if self.deferrable:
                self.defer(
                    trigger=DagStateTrigger(
                        dag_id=self.trigger_dag_id,
                        states=self.allowed_states + self.failed_states,
                        execution_dates=[logical_date] if logical_date is not None else None,
                        run_ids=[run_id],
                        poll_interval=self.poke_interval,
                    ),
                    method_name="execute_complete",
                )
            self._wait(seam, run_id)

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> None:
        """Airflow 3's: the DagStateTrigger's event is its serialize() tuple with each run
        id's state added; a run in a failed state fails the task naming them."""
        if not isinstance(event, tuple | list) or len(event) != 2 or not isinstance(event[1], dict):
            raise AirflowException(f"Unexpected event from DagStateTrigger: {event!r}")
        event_data = event[1]
        failed_run_ids = []
        for run_id in event_data.get("run_ids") or ():
            state = event_data.get(run_id)
            if state in self.failed_states:
                failed_run_ids.append(run_id)
                continue
            if state in self.allowed_states:
                self.log.info(
                    "%s finished with allowed state %s for run_id %s",
                    self.trigger_dag_id,
                    state,
                    run_id,
                )
        if failed_run_ids:
            raise AirflowException(
                f"{self.trigger_dag_id} failed with failed states {self.failed_states} for "
                f"run_ids {failed_run_ids}"
            )

    def _wait(self, seam: Any, run_id: str) -> None:
        """Poll the triggered run's state every poke_interval (Airflow's task runner loop)."""
        while True:
            self.log.info(
                "Waiting for %s on %s to become allowed state %s ...",
                self.trigger_dag_id,
                run_id,
                self.allowed_states,
            )
            time.sleep(self.poke_interval)
            state = seam.get_dag_run_state(self.trigger_dag_id, run_id)
            if state in self.failed_states:
                raise AirflowException(f"{self.trigger_dag_id} failed with failed state {state}")
            if state in self.allowed_states:
                self.log.info("%s finished with allowed state %s", self.trigger_dag_id, state)
                return


def _manual_run_id(logical_date: datetime | None) -> str:
    """Airflow's DagRun.generate_run_id for a manual run: `manual__<date>`."""
    return f"manual__{(logical_date or datetime.now(UTC)).isoformat()}"
