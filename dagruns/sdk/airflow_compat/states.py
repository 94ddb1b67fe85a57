"""Airflow's state enums for DAG files (``airflow.utils.state``, ``airflow.sdk.DagRunState``),
and its run types (``airflow.utils.types.DagRunType``).

Values are Airflow 3's state names, the same strings our database stores, so a DAG file may
compare them with what it gets back (``allowed_states=[DagRunState.SUCCESS]``). The REST API's
schemas use these same two enums (`dagruns/api/rest/schemas/common.py`).
"""

from __future__ import annotations

from enum import StrEnum


class TaskInstanceState(StrEnum):
    REMOVED = "removed"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    RESTARTING = "restarting"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    DEFERRED = "deferred"


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


class State:
    """Airflow 2's ``State``: the same values as constants, plus its groupings."""

    NONE = None
    REMOVED = TaskInstanceState.REMOVED
    SCHEDULED = TaskInstanceState.SCHEDULED
    QUEUED = TaskInstanceState.QUEUED
    RUNNING = TaskInstanceState.RUNNING
    SUCCESS = TaskInstanceState.SUCCESS
    RESTARTING = TaskInstanceState.RESTARTING
    FAILED = TaskInstanceState.FAILED
    UP_FOR_RETRY = TaskInstanceState.UP_FOR_RETRY
    UP_FOR_RESCHEDULE = TaskInstanceState.UP_FOR_RESCHEDULE
    UPSTREAM_FAILED = TaskInstanceState.UPSTREAM_FAILED
    SKIPPED = TaskInstanceState.SKIPPED
    DEFERRED = TaskInstanceState.DEFERRED

    finished = frozenset(
        [SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED]  # as Airflow's State.finished
    )
    unfinished = frozenset(
        [None, SCHEDULED, QUEUED, RUNNING, RESTARTING, UP_FOR_RETRY, UP_FOR_RESCHEDULE, DEFERRED]
    )
    failed_states = frozenset([FAILED, UPSTREAM_FAILED])
    success_states = frozenset([SUCCESS, SKIPPED])


class DagRunType(StrEnum):
    """Airflow's run types (``airflow.utils.types``): the values a run's ``run_type`` has, so
    a DAG file may compare ``context["dag_run"].run_type`` with them."""

    BACKFILL_JOB = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    OPERATOR_TRIGGERED = "operator_triggered"
    ASSET_TRIGGERED = "asset_triggered"
    ASSET_MATERIALIZATION = "asset_materialization"

    def generate_run_id(self, *, suffix: str) -> str:
        return f"{self}__{suffix}"

    @staticmethod
    def from_run_id(run_id: str) -> DagRunType:
        """The type a run id starts with (``manual__…``), else MANUAL, as Airflow's."""
        for run_type in DagRunType:
            if run_id and run_id.startswith(f"{run_type.value}__"):
                return run_type
        return DagRunType.MANUAL
