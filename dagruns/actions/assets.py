"""Asset mutations: the DAG processor's references, events from tasks and from the REST API.

Following Airflow 3's ``AssetManager.register_asset_change``: an event is stored, linked to
the aliases it came through, and queued (`AssetDagRunQueue`) for every active, unpaused DAG
scheduled on the asset or on one of those aliases; the scheduler then decides whether a DAG's
whole asset condition holds (scheduler/scheduling/asset_runs.py). Schedulers are woken after
commit, so a consumer starts within a tick, not a poll interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.tries import find_task, serialized_dag_of
from dagruns.domain import logs
from dagruns.domain.assets import schedule_condition, task_assets
from dagruns.models import (
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    DagModel,
    DagScheduleAssetAliasReference,
    DagScheduleAssetNameReference,
    DagScheduleAssetReference,
    DagScheduleAssetUriReference,
    TaskInletAssetReference,
    TaskInstance,
    TaskOutletAssetReference,
)
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers
from dagruns.sdk.assets import Asset, AssetAlias, AssetNameRef, AssetRef


class AssetEventRefused(ValueError):
    """An asset event cannot be created; the message says why."""


def _asset_row(asset: Asset) -> AssetModel:
    row, _ = AssetModel.objects.get_or_create(
        name=asset.name, uri=asset.uri, defaults={"group": asset.group, "extra": asset.extra}
    )
    if (row.group, row.extra) != (asset.group, asset.extra):
        row.group, row.extra = asset.group, asset.extra
        row.save(update_fields=["group", "extra", "updated_at"])
    return row


def _alias_row(alias: AssetAlias) -> AssetAliasModel:
    row, _ = AssetAliasModel.objects.get_or_create(name=alias.name, defaults={"group": alias.group})
    return row


def _replace(
    model: Any, dag: DagModel, wanted: set[tuple[Any, ...]], fields: Sequence[str]
) -> None:
    existing = {
        tuple(values): pk
        for pk, *values in model.objects.filter(dag=dag).values_list("pk", *fields)
    }
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    model.objects.bulk_create(
        [model(dag=dag, **dict(zip(fields, key, strict=True))) for key in wanted - existing.keys()]
    )


def do_sync_asset_references(dag: DagModel, serialized: Mapping[str, Any]) -> set[int]:
    """Record which assets, aliases and asset references (``Asset.ref``) the DAG's schedule
    names and which assets its tasks produce and read (called by the DAG processor, in the
    transaction storing the DAG). Returns the assets scheduled before or after, whose
    watchers the processor syncs once the DAG's version is stored."""
    scheduled: set[tuple[Any, ...]] = set()
    scheduled_aliases: set[tuple[Any, ...]] = set()
    name_refs: set[tuple[Any, ...]] = set()
    uri_refs: set[tuple[Any, ...]] = set()
    condition = schedule_condition(serialized)
    if condition is not None:
        scheduled = {(_asset_row(a).pk,) for a in condition.iter_assets()}
        scheduled_aliases = {(_alias_row(a).pk,) for a in condition.iter_asset_aliases()}
        for ref in condition.iter_asset_refs():
            (name_refs if isinstance(ref, AssetNameRef) else uri_refs).add((ref.value,))
    outlets: set[tuple[Any, ...]] = set()
    inlets: set[tuple[Any, ...]] = set()
    for task in serialized.get("tasks") or []:
        for wanted, argument in ((outlets, "outlets"), (inlets, "inlets")):
            for item in task_assets(task, argument):
                if isinstance(item, Asset):
                    wanted.add((_asset_row(item).pk, task["task_id"]))
                elif isinstance(item, AssetAlias):
                    _alias_row(item)
    watched = set(
        DagScheduleAssetReference.objects.filter(dag=dag).values_list("asset_id", flat=True)
    ) | {pk for (pk,) in scheduled}
    _replace(DagScheduleAssetReference, dag, scheduled, ["asset_id"])
    _replace(DagScheduleAssetNameReference, dag, name_refs, ["name"])
    _replace(DagScheduleAssetUriReference, dag, uri_refs, ["uri"])
    _replace(DagScheduleAssetAliasReference, dag, scheduled_aliases, ["alias_id"])
    _replace(TaskOutletAssetReference, dag, outlets, ["asset_id", "task_id"])
    _replace(TaskInletAssetReference, dag, inlets, ["asset_id", "task_id"])
    return watched


@dataclass
class OutletEvent:
    """One event a task asks for on success: an outlet asset's extra, or an asset added to
    an outlet alias (``source_alias_name``)."""

    name: str
    uri: str
    group: str = "asset"
    extra: dict[str, Any] = field(default_factory=dict)
    source_alias_name: str | None = None


def register_asset_event(
    asset: AssetModel,
    *,
    extra: dict[str, Any],
    timestamp: datetime,
    aliases: Iterable[AssetAliasModel] = (),
    source: TaskInstance | None = None,
    watcher_name: str = "",
) -> AssetEvent:
    """Store one event and queue it for the DAGs scheduled on the asset or its aliases."""
    aliases = list(aliases)
    event = AssetEvent.objects.create(
        asset=asset,
        source_watcher_name=watcher_name,
        extra=extra,
        timestamp=timestamp,
        source_dag_id=source.dag_id if source else "",
        source_task_id=source.task_id if source else "",
        source_run_id=source.run_id if source else "",
        source_map_index=source.map_index if source else -1,
    )
    if aliases:
        event.source_aliases.add(*aliases)
        for alias in aliases:
            alias.assets.add(asset)
    consumers = DagModel.objects.filter(is_active=True, is_paused=False).filter(
        Q(schedule_asset_refs__asset=asset)
        | Q(schedule_asset_alias_refs__alias__in=[a.pk for a in aliases])
        | Q(schedule_asset_name_refs__name=asset.name)
        | Q(schedule_asset_uri_refs__uri=asset.uri)
    )
    for dag_id in set(consumers.values_list("dag_id", flat=True)):
        # One row per (asset, DAG); a later event moves it forward so the run it triggers
        # consumes every event queued so far.
        AssetDagRunQueue.objects.update_or_create(
            asset=asset, target_dag_id=dag_id, defaults={"created_at": timestamp}
        )
        events.notify("dag", dag_id=dag_id)
    transaction.on_commit(wake_schedulers)
    return event


def do_register_outlet_events(
    ti: TaskInstance, task: Mapping[str, Any], reported: Sequence[OutletEvent]
) -> list[AssetEvent]:
    """The events of a task instance that succeeded: one per outlet asset (with the extra
    task code set), one per asset task code added to an outlet alias. `task` is the task's
    entry in the run's serialized DAG, which says what its outlets are."""
    outlets = task_assets(task, "outlets")
    assets = {o.key: o for o in outlets if isinstance(o, Asset)}
    alias_names = {o.name for o in outlets if isinstance(o, AssetAlias)}
    extras: dict[Any, dict[str, Any]] = {}
    through_alias: dict[tuple[str, str, str], list[OutletEvent]] = {}
    for entry in reported:
        if entry.source_alias_name is None:
            key = Asset(name=entry.name, uri=entry.uri).key
            if key not in assets:
                raise AssetEventRefused(f"asset {entry.name!r} is not an outlet of the task")
            extras[key] = entry.extra
        elif entry.source_alias_name not in alias_names:
            raise AssetEventRefused(
                f"asset alias {entry.source_alias_name!r} is not an outlet of the task"
            )
        else:
            extra_key = repr(sorted(entry.extra.items()))
            through_alias.setdefault((entry.name, entry.uri, extra_key), []).append(entry)
    now = timezone.now()
    made = [
        register_asset_event(_asset_row(asset), extra=extras.get(key, {}), timestamp=now, source=ti)
        for key, asset in assets.items()
    ]
    for ref in (o for o in outlets if isinstance(o, AssetRef)):
        made.extend(_register_ref_event(ti, ref, now))
    for entries in through_alias.values():
        first = entries[0]
        asset = Asset(name=first.name, uri=first.uri, group=first.group)
        row, _ = AssetModel.objects.get_or_create(
            name=asset.name, uri=asset.uri, defaults={"group": asset.group}
        )
        aliases = [_alias_row(AssetAlias(e.source_alias_name or "")) for e in entries]
        made.append(
            register_asset_event(row, extra=first.extra, timestamp=now, aliases=aliases, source=ti)
        )
    return made


def _register_ref_event(ti: TaskInstance, ref: AssetRef, now: datetime) -> list[AssetEvent]:
    """The event of an ``Asset.ref`` outlet: for the asset it names, if one is known; else,
    as Airflow, a warning in the task's log and no event."""
    rows = AssetModel.objects.filter(**{ref.field: ref.value}).order_by("pk")
    row = rows.first()
    if row is None:
        logs.append_lines(
            logs.ti_log_path(ti),
            [f'WARNING - Task has inactive assets "Asset.ref({ref.field}={ref.value})" in '
             "inlets or outlets"],
        )  # fmt: skip
        return []
    return [register_asset_event(row, extra={}, timestamp=now, source=ti)]


def do_create_asset_event(asset_id: int, extra: dict[str, Any], actor: Actor) -> AssetEvent:
    """``POST /api/v2/assets/events``: an event for an asset from outside (Airflow marks its
    extra with ``from_rest_api``)."""
    try:
        asset = AssetModel.objects.get(pk=asset_id)
    except AssetModel.DoesNotExist:
        raise AssetEventRefused(f"Asset with ID: `{asset_id}` was not found") from None
    with transaction.atomic():
        event = register_asset_event(
            asset, extra={**extra, "from_rest_api": True}, timestamp=timezone.now()
        )
        record(actor, "create_asset_event", extra={"asset_id": asset_id, "event_id": event.pk})
    return event


def do_register_task_success_events(
    ti: TaskInstance, reported: Sequence[OutletEvent]
) -> list[AssetEvent]:
    """`do_register_outlet_events` for a task instance that just succeeded, its outlets read
    from the DAG version its run is pinned to (the per-process cache of versions: loading the
    version's row decoded the whole serialized DAG at every task's end)."""
    task = find_task(serialized_dag_of(ti), ti.task_id)
    if task is None or not (task.get("outlets") or reported):
        return []
    return do_register_outlet_events(ti, task, reported)


def do_delete_queued_events(
    actor: Actor,
    *,
    asset_id: int | None = None,
    dag_id: str | None = None,
    before: datetime | None = None,
) -> int:
    """Forget queued asset events (of an asset, a DAG, or one pair), optionally only those
    queued before `before`: the DAG will not run on them. Returns how many were removed."""
    rows = AssetDagRunQueue.objects.all()
    if asset_id is not None:
        rows = rows.filter(asset_id=asset_id)
    if dag_id is not None:
        rows = rows.filter(target_dag_id=dag_id)
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    with transaction.atomic():
        deleted, _ = rows.delete()
        if deleted:
            record(
                actor,
                "delete_queued_asset_events",
                dag_id=dag_id or "",
                extra={"asset_id": asset_id, "before": before.isoformat() if before else None},
            )
    return deleted
