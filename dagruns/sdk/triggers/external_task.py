"""The standard provider's cross-DAG triggers (`airflow.providers.standard.triggers.
external_task`): `WorkflowTrigger`, on which `ExternalTaskSensor(deferrable=True)` waits, and
`DagStateTrigger`, on which `TriggerDagRunOperator(wait_for_completion=True, deferrable=True)`
waits. They read other DAGs' states through the Execution API (triggers/states.py), polling
every `poke_interval` / `poll_interval` seconds, never the database.

Deliberate differences from the provider (3.x), each a bug there:

* WorkflowTrigger with `failed_states` fires `{"status": "success"}` at its first poll when
  nothing has failed yet; here it goes on to the skipped and allowed states and keeps polling.
* WorkflowTrigger over a task group counts the task group's task instances and compares that
  with the number of runs, so a group of several tasks never succeeds; here a run counts once
  all of its group's tasks are in the states (as the non-deferrable sensor counts).
* DagStateTrigger stops filling the event after the first run id, and never fires when given
  only `execution_dates`; here every run id gets its state and dates alone fire too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from . import states as remote
from .base import BaseTrigger, TriggerEvent

MODULE = "airflow.providers.standard.triggers.external_task"


def count_runs_matching(
    run_task_states: Mapping[str, Mapping[str, Any]], states: Collection[str]
) -> int:
    """How many runs have every task (at least one) in one of `states` (Airflow's
    _get_count_by_matched_states, for a task group)."""
    count = 0
    for task_states in run_task_states.values():
        matched = [state in states for state in task_states.values()]
        if matched and all(matched):
            count += 1
    return count


class WorkflowTrigger(BaseTrigger):
    """Fires once the external DAG's runs (or its tasks, or its task group) at `run_ids` or
    `logical_dates` are all in `allowed_states`: `{"status": "success"}`; or as soon as any is
    in `failed_states`: `{"status": "failed"}`, or in `skipped_states`: `{"status":
    "skipped"}`."""

    def __init__(
        self,
        external_dag_id: str,
        run_ids: list[str] | None = None,
        execution_dates: list[datetime] | None = None,
        logical_dates: list[datetime] | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        failed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        allowed_states: Iterable[str] | None = None,
        poke_interval: float = 2.0,
        soft_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.external_dag_id = external_dag_id
        self.external_task_ids = list(external_task_ids) if external_task_ids else None
        self.external_task_group_id = external_task_group_id
        self.failed_states = list(failed_states) if failed_states else None
        self.skipped_states = list(skipped_states) if skipped_states else None
        self.allowed_states = list(allowed_states) if allowed_states else None
        self.run_ids = run_ids
        self.poke_interval = poke_interval
        self.soft_fail = soft_fail
        # Airflow 2's name, kept by Airflow 3's trigger (and ignored there, as here).
        self.execution_dates = execution_dates
        self.logical_dates = logical_dates

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{MODULE}.WorkflowTrigger", {
            "external_dag_id": self.external_dag_id,
            "external_task_ids": self.external_task_ids,
            "external_task_group_id": self.external_task_group_id,
            "failed_states": self.failed_states,
            "skipped_states": self.skipped_states,
            "allowed_states": self.allowed_states,
            "poke_interval": self.poke_interval,
            "soft_fail": self.soft_fail,
            "run_ids": self.run_ids,
            "logical_dates": self.logical_dates,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        awaited = len(self.run_ids or self.logical_dates or [])
        while True:
            if self.failed_states and await self._count(self.failed_states) > 0:
                yield TriggerEvent({"status": "failed"})
                return
            if self.skipped_states and await self._count(self.skipped_states) > 0:
                yield TriggerEvent({"status": "skipped"})
                return
            if await self._count(self.allowed_states) == awaited:
                yield TriggerEvent({"status": "success"})
                return
            self.log.info("Sleeping for %s seconds", self.poke_interval)
            await asyncio.sleep(self.poke_interval)

    async def _count(self, states: list[str] | None) -> float:
        """Runs in `states`; a count of tasks is normalized per task, as Airflow's."""
        dag_id, dates, run_ids = self.external_dag_id, self.logical_dates, self.run_ids
        if self.external_task_ids:
            count = await remote.get_ti_count(
                dag_id,
                task_ids=self.external_task_ids,
                logical_dates=dates,
                run_ids=run_ids,
                states=states,
            )
            return count / len(self.external_task_ids)
        if self.external_task_group_id:
            run_task_states = await remote.get_task_states(
                dag_id,
                task_group_id=self.external_task_group_id,
                logical_dates=dates,
                run_ids=run_ids,
            )
            return count_runs_matching(run_task_states, states or ())
        return await remote.get_dr_count(
            dag_id, logical_dates=dates, run_ids=run_ids, states=states
        )


class DagStateTrigger(BaseTrigger):
    """Fires once every run of `dag_id` named by `run_ids` (and `execution_dates`, their
    logical dates) is in one of `states`. The event is Airflow 3's: this trigger's
    `serialize()` tuple, its kwargs with each run id's state added."""

    def __init__(
        self,
        dag_id: str,
        states: list[str],
        run_ids: list[str] | None = None,
        execution_dates: list[datetime] | None = None,
        poll_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.states = states
        self.run_ids = run_ids
        self.execution_dates = execution_dates
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{MODULE}.DagStateTrigger", {
            "dag_id": self.dag_id,
            "states": self.states,
            "poll_interval": self.poll_interval,
            "run_ids": self.run_ids,
            "execution_dates": self.execution_dates,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        awaited = len(self.run_ids or self.execution_dates or [])
        classpath, data = self.serialize()
        while True:
            count = await remote.get_dr_count(
                self.dag_id,
                logical_dates=self.execution_dates,
                run_ids=self.run_ids,
                states=self.states,
            )
            if count == awaited:
                for run_id in self.run_ids or ():
                    data[run_id] = await remote.get_dagrun_state(self.dag_id, run_id)
                yield TriggerEvent((classpath, data))
                return
            await asyncio.sleep(self.poll_interval)
