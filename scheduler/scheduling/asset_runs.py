"""Step 1b of a scheduler tick: create ``asset_triggered`` runs for DAGs whose queued asset
events satisfy their schedule's asset condition (Airflow 3's
``_create_dag_runs_asset_triggered``).

A DAG's queue (`AssetDagRunQueue`) holds one row per asset with an event it has not consumed.
When the DAG's condition holds over those assets (an alias holds when any asset it resolved to
is queued), one run is created with ``run_after`` = the newest queued event's time and no
logical date, the events since the DAG's previous asset-triggered run up to then are linked to
it (the run's ``triggering_asset_events``), and the queue rows it consumed are removed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from dagruns.actions.runs import create_dag_run, generate_run_id
from dagruns.domain.assets import schedule_condition
from dagruns.models import (
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagModel,
    DagRun,
    DagRunTriggeredBy,
    DagRunType,
)
from dagruns.models.states import DAGRUN_ACTIVE
from dagruns.notify import events
from dagruns.sdk.assets import Asset, AssetAlias, AssetRef, BaseAsset

logger = logging.getLogger(__name__)


def create_asset_triggered_runs(now: datetime, limit: int = 100) -> int:
    """Create at most one run per DAG with queued asset events; returns how many."""
    dag_ids = list(
        AssetDagRunQueue.objects.filter(target_dag__is_active=True, target_dag__is_paused=False)
        .values_list("target_dag_id", flat=True)
        .distinct()[:limit]
    )
    return sum(_create_if_ready(dag_id) for dag_id in dag_ids)


def _is_satisfied(dag: DagModel, condition: BaseAsset, queued: set[int]) -> bool:
    """Whether the DAG's asset condition holds over its queued assets (ids)."""
    # The DAG's schedule references were written from the same serialized version.
    ids = {
        (name, uri): pk
        for pk, name, uri in AssetModel.objects.filter(scheduled_dags__dag=dag).values_list(
            "pk", "name", "uri"
        )
    }
    alias_names = [a.name for a in condition.iter_asset_aliases()]
    resolved: dict[str, set[int]] = {}
    for name, asset_id in AssetAliasModel.objects.filter(name__in=alias_names).values_list(
        "name", "assets"
    ):
        if asset_id is not None:
            resolved.setdefault(name, set()).add(asset_id)

    # An Asset.ref holds when an asset it names is queued; one naming no asset yet waits.
    referenced: dict[AssetRef, set[int]] = {}
    for ref in set(condition.iter_asset_refs()):
        named = AssetModel.objects.filter(**{ref.field: ref.value}).values_list("pk", flat=True)
        referenced[ref] = set(named)

    def is_true(leaf: BaseAsset) -> bool:
        if isinstance(leaf, Asset):
            return ids.get((leaf.name, leaf.uri)) in queued
        if isinstance(leaf, AssetAlias):
            return bool(resolved.get(leaf.name, set()) & queued)
        if isinstance(leaf, AssetRef):
            return bool(referenced.get(leaf, set()) & queued)
        return False

    return condition.evaluate(is_true)


def _create_if_ready(dag_id: str) -> int:
    with transaction.atomic():
        # Several schedulers: whoever locks the DAG row decides; the others skip it this tick.
        dag = DagModel.objects.select_for_update(skip_locked=True).filter(dag_id=dag_id).first()
        if dag is None:
            return 0
        queue = AssetDagRunQueue.objects.filter(target_dag=dag)
        queued = dict(queue.values_list("asset_id", "created_at"))
        version = dag.latest_version()
        condition = schedule_condition(version.serialized) if version is not None else None
        if not queued or condition is None:
            queue.delete()  # the DAG is no longer scheduled on assets
            return 0
        if not _is_satisfied(dag, condition, set(queued)):
            return 0
        if DagRun.objects.filter(dag=dag, state__in=DAGRUN_ACTIVE).count() >= dag.max_active_runs:
            return 0  # the queue waits until a run finishes, as for timetable runs
        triggered_date = max(queued.values())
        previous = DagRun.objects.filter(
            dag=dag, run_type=DagRunType.ASSET_TRIGGERED, run_after__lt=triggered_date
        ).aggregate(last=Max("run_after"))["last"]
        consumed = AssetEvent.objects.filter(
            Q(asset__scheduled_dags__dag=dag)
            | Q(source_aliases__scheduled_dags__dag=dag)
            | Q(asset__name__in=dag.schedule_asset_name_refs.values("name"))
            | Q(asset__uri__in=dag.schedule_asset_uri_refs.values("uri")),
            timestamp__lte=triggered_date,
        )
        if previous is not None:
            consumed = consumed.filter(timestamp__gt=previous)
        assert version is not None
        try:
            with transaction.atomic():
                run = create_dag_run(
                    dag,
                    version,
                    run_type=DagRunType.ASSET_TRIGGERED,
                    run_id=generate_run_id(DagRunType.ASSET_TRIGGERED, triggered_date),
                    logical_date=None,
                    data_interval=None,
                    run_after=triggered_date,
                    triggered_by=DagRunTriggeredBy.ASSET,
                )
        except IntegrityError:
            logger.warning("DAG %s: an asset-triggered run for %s exists", dag_id, triggered_date)
            return 0
        run.consumed_asset_events.add(*consumed.distinct())  # type: ignore[attr-defined]
        # Only the rows read above: an event queued meanwhile triggers the next run.
        queue.filter(created_at__lte=triggered_date).delete()
        events.notify("run", dag_id=dag_id, run_id=run.run_id)
        return 1
