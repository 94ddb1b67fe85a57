"""Actions on DAGs as a whole: pause and unpause."""

from __future__ import annotations

from django.db import transaction

from dagruns.actions.asset_watchers import do_sync_asset_watchers, scheduled_asset_ids
from dagruns.actions.audit import Actor, record
from dagruns.models import DagModel
from dagruns.notify import events


class DagNotFound(LookupError):
    def __init__(self, dag_id: str) -> None:
        super().__init__(f"DAG {dag_id!r} not found")
        self.dag_id = dag_id


def get_dag_or_raise(dag_id: str) -> DagModel:
    try:
        return DagModel.objects.get(dag_id=dag_id)
    except DagModel.DoesNotExist:
        raise DagNotFound(dag_id) from None


def do_set_paused(dag_id: str, paused: bool, actor: Actor, *, dry_run: bool = False) -> DagModel:
    """Pause or unpause a DAG. Pausing stops new runs from being scheduled; runs already going
    carry on, as in Airflow. With `dry_run`, returns the DAG as it would be, unsaved."""
    with transaction.atomic():
        dag = get_dag_or_raise(dag_id)
        if dry_run:
            dag.is_paused = paused
            return dag
        if dag.is_paused != paused:
            DagModel.objects.filter(pk=dag.pk).update(is_paused=paused)
            dag.is_paused = paused
            # A paused DAG's assets are not watched for it (Airflow's active-asset rule).
            do_sync_asset_watchers(scheduled_asset_ids([dag_id]))
            record(actor, "paused" if paused else "unpaused", dag_id=dag_id)
            events.notify("dag", dag_id=dag_id)
    return dag
