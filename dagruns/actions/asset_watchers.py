"""Asset watchers (event-driven scheduling): which triggers watch which assets, and what an
event of such a trigger does.

As Airflow's DAG processor (``add_asset_trigger_references``) and ``Trigger.submit_event``:
an asset's watchers are registered while some active, unpaused DAG is scheduled on the asset,
and removed when none is (the DAG changed, was paused, or its file went away). Each watcher's
trigger is a `Trigger` row the triggerers lease and run like a deferral's; it is kept (not
deleted when it fires, as a deferral's is) and every event it yields becomes an event of each
asset it watches, with Airflow's extra ``{"from_trigger": True, "payload": ...}`` and no
source task. Watchers with the same trigger (class path and kwargs) share one row, as in
Airflow, so one event reaches every asset that trigger watches.

The watchers an asset gets are those of the `Asset` objects in the schedules of the DAGs
scheduled on it (the union over those DAGs, so two DAGs naming the asset with and without
watchers do not take turns removing them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dagruns.actions.assets import register_asset_event
from dagruns.domain.assets import schedule_condition
from dagruns.models import AssetModel, AssetWatcherModel, DagModel, Trigger
from dagruns.notify.trigger_wakeup import wake_triggerers
from dagruns.sdk.triggers.base import BaseEventTrigger

Wanted = dict[str, tuple[str, str, dict[str, Any]]]  # hash -> (watcher name, classpath, kwargs)


def _wanted_watchers(asset: AssetModel) -> Wanted:
    """The watchers the schedules of the active, unpaused DAGs on `asset` define for it."""
    wanted: Wanted = {}
    consumers = DagModel.objects.filter(
        schedule_asset_refs__asset=asset, is_active=True, is_paused=False
    ).distinct()
    for dag in consumers:
        version = dag.latest_version()
        condition = schedule_condition(version.serialized) if version is not None else None
        if condition is None:
            continue
        for defined in condition.iter_assets():
            if (defined.name, defined.uri) != (asset.name, asset.uri):
                continue
            for watcher in defined.watchers:
                trigger = watcher.encode()["trigger"]
                classpath, kwargs = trigger["classpath"], trigger["kwargs"]
                key = BaseEventTrigger.hash(classpath, kwargs)
                wanted.setdefault(key, (watcher.name, classpath, kwargs))
    return wanted


def _watcher_triggers() -> dict[str, Trigger]:
    """The stored triggers of all watchers, by hash (to share one between assets)."""
    found: dict[str, Trigger] = {}
    for trigger in Trigger.objects.filter(asset_watchers__isnull=False).distinct():
        found[BaseEventTrigger.hash(trigger.classpath, trigger.kwargs)] = trigger
    return found


def do_sync_asset_watchers(asset_ids: Iterable[int]) -> int:
    """Make the watchers of these assets what their consumers' schedules define (none when
    no active, unpaused DAG is scheduled on an asset); triggers no longer used by anything
    are deleted, which stops them in their triggerer. Returns how many watchers changed."""
    from dagruns.actions.deferral import delete_unused_triggers

    changed = 0
    with transaction.atomic():
        shared: dict[str, Trigger] | None = None
        for asset in AssetModel.objects.filter(pk__in=set(asset_ids)):
            wanted = _wanted_watchers(asset)
            existing = {
                BaseEventTrigger.hash(w.trigger.classpath, w.trigger.kwargs): w
                for w in AssetWatcherModel.objects.filter(asset=asset).select_related("trigger")
            }
            stale = [w.pk for key, w in existing.items() if key not in wanted]
            if stale:
                AssetWatcherModel.objects.filter(pk__in=stale).delete()
                changed += len(stale)
            for key, (name, classpath, kwargs) in wanted.items():
                if key in existing:
                    if existing[key].name != name:
                        AssetWatcherModel.objects.filter(pk=existing[key].pk).update(name=name)
                    continue
                if shared is None:
                    shared = _watcher_triggers()
                trigger = shared.get(key)
                if trigger is None:
                    trigger = Trigger(classpath=classpath, created_date=timezone.now())
                    trigger.kwargs = kwargs
                    trigger.save()
                    shared[key] = trigger
                AssetWatcherModel.objects.create(name=name, asset=asset, trigger=trigger)
                changed += 1
        if changed:
            delete_unused_triggers()
            transaction.on_commit(wake_triggerers)
    return changed


def scheduled_asset_ids(dag_ids: Iterable[str]) -> set[int]:
    """The assets these DAGs' schedules name (whose watchers may change with the DAGs)."""
    return set(
        AssetModel.objects.filter(scheduled_dags__dag_id__in=list(dag_ids)).values_list(
            "pk", flat=True
        )
    )


def do_register_watcher_events(trigger_id: int, payload: Any, *, now: datetime) -> int:
    """A watcher's trigger yielded an event (`payload`, encoded): one event for each asset
    it watches (Airflow's ``Trigger.submit_event``). Returns how many events were made."""
    watchers = AssetWatcherModel.objects.filter(trigger_id=trigger_id).select_related("asset")
    made = 0
    for watcher in watchers.order_by("pk"):
        register_asset_event(
            watcher.asset,
            extra={"from_trigger": True, "payload": payload},
            timestamp=now,
            watcher_name=watcher.name,
        )
        made += 1
    return made
