"""Deleting a DAG's metadata (Airflow's `airflow.api.common.delete_dag`).

Removes the DAG row with its runs, task instances, tries, XComs, versions and tags; keeps the
audit log (Airflow's `keep_records_in_log`). The file is not touched: if it still defines the
DAG, the processor brings the DAG back on its next parse, as in Airflow.
"""

from __future__ import annotations

from django.db import transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.models import DagModel, DagRun, TaskInstance, TaskInstanceState
from dagruns.notify import events


class DagHasRunningTasks(RuntimeError):
    def __init__(self, dag_id: str, count: int) -> None:
        super().__init__(f"Cannot delete DAG {dag_id!r}: {count} task instance(s) still running")
        self.dag_id = dag_id
        self.count = count


def check_can_delete_dag(dag_id: str) -> DagModel:
    dag = get_dag_or_raise(dag_id)
    running = TaskInstance.objects.filter(dag_id=dag_id, state=TaskInstanceState.RUNNING).count()
    if running:
        raise DagHasRunningTasks(dag_id, running)
    return dag


def do_delete_dag(dag_id: str, actor: Actor, *, dry_run: bool = False) -> int:
    """Delete the DAG; returns how many runs went with it (with `dry_run`: would go, and
    nothing is deleted, the same checks refusing). Raises DagNotFound, or DagHasRunningTasks
    while any of its task instances runs (as Airflow refuses)."""
    with transaction.atomic():
        dag = check_can_delete_dag(dag_id)
        runs = DagRun.objects.filter(dag_id=dag_id)
        count = runs.count()
        if dry_run:
            return count
        # Runs first: they (and their task instances) protect the versions they ran with.
        runs.delete()
        dag.delete()
        record(actor, "delete_dag", dag_id=dag_id, extra={"runs_deleted": count})
        events.notify("dag", dag_id=dag_id)
    return count
