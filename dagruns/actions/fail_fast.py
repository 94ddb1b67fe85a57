"""A DAG's `fail_fast=True`, as Airflow 3's Execution API applies it: when a try of one of its
tasks ends failed (for good, not up for retry), every other task instance of the run that has
not succeeded or failed stops — a running one is failed (its runner learns at its next
heartbeat and is stopped), any other is skipped. Teardown tasks are left to run, so resources
set up by the run are still cleaned up. The DAG processor already refuses a fail_fast DAG
whose tasks use a trigger rule other than all_success (Airflow's rule)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dagruns.domain.logs import append_lines, ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState

TIS = TaskInstanceState
log = logging.getLogger(__name__)


def stop_remaining_tasks(
    failed: TaskInstance, serialized: dict[str, Any] | None, now: datetime
) -> int:
    """In the caller's transaction: when `failed`'s DAG is fail_fast, fail the run's other
    running tries and skip its other unfinished task instances. Returns how many changed."""
    if not serialized or not serialized.get("fail_fast"):
        return 0
    from dagruns.actions.tries import record_try_history  # tries calls this module

    teardowns = [t["task_id"] for t in serialized.get("tasks", ()) if t.get("is_teardown")]
    others = (
        TaskInstance.objects.filter(dag_run_id=failed.dag_run_id)
        .exclude(pk=failed.pk)
        .exclude(task_id__in=teardowns)
        .exclude(state__in=(TIS.SUCCESS, TIS.FAILED))
    )
    running = list(others.filter(state=TIS.RUNNING))
    changed = 0
    for ti in running:
        if TaskInstance.objects.filter(pk=ti.pk, state=TIS.RUNNING).update(
            state=TIS.FAILED, end_date=now, updated_at=now
        ):
            changed += 1
            ti.refresh_from_db()
            record_try_history(ti)  # the forced failure is this try's final state
            append_lines(
                ti_log_path(ti),
                [
                    f"ERROR - Forcing task to fail due to dag's `fail_fast` setting: "
                    f"task {failed.task_id} failed."
                ],
            )
    # `others` is read again here: the tries failed above are no longer in it.
    changed += others.exclude(state=TIS.RUNNING).update(
        state=TIS.SKIPPED, end_date=now, updated_at=now
    )
    if changed:
        log.info(
            "DAG %s run %s: task %s failed and the DAG is fail_fast: %d other task "
            "instance(s) stopped",
            failed.dag_id,
            failed.run_id,
            failed.task_id,
            changed,
        )
    return changed
