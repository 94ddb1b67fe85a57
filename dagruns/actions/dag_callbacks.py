"""What happens when a DAG run ends, besides its state: Airflow's DAG-level callbacks are
requested (the DAG processor runs them, see scheduler/processor/callbacks.py) and
`max_consecutive_failed_dag_runs` pauses a DAG whose last runs all failed.

`on_run_finished` is called by the scheduler inside the transaction that ends the run, so a
request exists exactly when the run's end is committed: a crash between the two cannot lose a
callback or run one for a run that did not end.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from dagruns.actions.asset_watchers import do_sync_asset_watchers, scheduled_asset_ids
from dagruns.actions.audit import Actor, record
from dagruns.domain.logs import run_log_dir
from dagruns.domain.versions import fileloc_of_version, serialized_of_version
from dagruns.models import DagCallbackRequest, DagModel, DagRun, DagRunState, TaskInstance
from dagruns.models.states import TI_FAILED_LIKE
from dagruns.notify import events

log = logging.getLogger(__name__)

SCHEDULER_ACTOR = Actor(name="scheduler")
CALLBACK_LOG_NAME = "dag_callbacks.log"


def callback_log_path(dag_id: str, run_id: str) -> Path:
    """The run's DAG-callback log: what the callbacks printed or logged, and their errors."""
    return run_log_dir(dag_id, run_id) / CALLBACK_LOG_NAME


def finish_reason(run: DagRun, state: str, now: datetime) -> str:
    """Airflow's `reason` in a DAG callback's context: "success"; "timed_out" when the run
    outlived its dagrun_timeout; "task_failure" when a task failed; otherwise (nothing failed
    yet nothing could run any more) "all_tasks_deadlocked"."""
    if state == DagRunState.SUCCESS:
        return "success"
    timeout = serialized_of_version(run.dag_version_id).get("dagrun_timeout")
    if timeout and run.start_date and now - run.start_date > timedelta(seconds=timeout):
        return "timed_out"
    if TaskInstance.objects.filter(dag_run_id=run.pk, state__in=TI_FAILED_LIKE).exists():
        return "task_failure"
    return "all_tasks_deadlocked"


def on_run_finished(run: DagRun, state: str, now: datetime) -> None:
    """The run just ended in `state` (success or failed), in the caller's transaction."""
    if run.dag_version_id is None:
        return
    serialized = serialized_of_version(run.dag_version_id)
    is_failure = state == DagRunState.FAILED
    if serialized.get("has_on_failure_callback" if is_failure else "has_on_success_callback"):
        DagCallbackRequest.objects.create(
            dag_run_id=run.pk,
            dag_id=run.dag_id,
            run_id=run.run_id,
            fileloc=fileloc_of_version(run.dag_version_id),
            is_failure=is_failure,
            reason=finish_reason(run, state, now),
            created_at=now,
        )
    if is_failure:
        _pause_after_consecutive_failures(run.dag_id, serialized)


def _pause_after_consecutive_failures(dag_id: str, serialized: dict) -> None:
    """Airflow's max_consecutive_failed_dag_runs: when the DAG's last N runs (newest first,
    this one included) all failed, the DAG is paused, and the audit log says why."""
    limit = int(serialized.get("max_consecutive_failed_dag_runs") or 0)
    if limit <= 0:
        return
    last = list(
        DagRun.objects.filter(dag_id=dag_id).order_by("-pk").values_list("state", flat=True)[:limit]
    )
    if len(last) < limit or any(state != DagRunState.FAILED for state in last):
        return
    if DagModel.objects.filter(pk=dag_id, is_paused=False).update(is_paused=True):
        do_sync_asset_watchers(scheduled_asset_ids([dag_id]))
        log.warning("Pausing DAG %s because its last %d DAG runs failed", dag_id, limit)
        record(
            SCHEDULER_ACTOR,
            "paused",
            dag_id=dag_id,
            extra={
                "reason": f"max_consecutive_failed_dag_runs={limit}: the last {limit} runs failed"
            },
        )
        events.notify("dag", dag_id=dag_id)
