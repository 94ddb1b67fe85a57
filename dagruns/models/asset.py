"""Assets (data-aware scheduling), as Airflow 3's ``airflow/models/asset.py`` keeps them.

An asset is known by its name and URI; producing tasks add `AssetEvent`s; each DAG scheduled
on an asset gets an `AssetDagRunQueue` row per asset with an event it has not consumed yet,
and the scheduler turns a DAG's queue into an ``asset_triggered`` run once the DAG's asset
condition holds (scheduler/scheduling/asset_runs.py), linking the consumed events to the run.
The reference tables are rewritten by the DAG processor whenever it stores a DAG; so are
the asset watchers (`AssetWatcherModel`: a `Trigger` the triggerer runs for as long as some
active, unpaused DAG is scheduled on the asset, each of its events an event of the asset).
"""

from __future__ import annotations

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH, DagModel
from dagruns.models.dagrun import DagRun
from dagruns.models.trigger import Trigger

ASSET_FIELD_LENGTH = 1500  # Airflow's limit on asset names, URIs and groups


class AssetModel(models.Model):
    """An asset some DAG produces, consumes or received an event for."""

    name = models.CharField(max_length=ASSET_FIELD_LENGTH)
    uri = models.CharField(max_length=ASSET_FIELD_LENGTH)
    group = models.CharField(max_length=ASSET_FIELD_LENGTH, blank=True, default="asset")
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "asset"
        ordering = ["name", "uri"]
        constraints = [
            models.UniqueConstraint(fields=["name", "uri"], name="asset_name_uri_unique")
        ]

    def __str__(self) -> str:
        return self.name


class AssetAliasModel(models.Model):
    """An asset alias; `assets` are those events were emitted for through it."""

    name = models.CharField(max_length=ASSET_FIELD_LENGTH, unique=True)
    group = models.CharField(max_length=ASSET_FIELD_LENGTH, blank=True, default="asset")
    assets = models.ManyToManyField(
        AssetModel, related_name="aliases", db_table="asset_alias_asset"
    )

    class Meta:
        db_table = "asset_alias"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssetEvent(models.Model):
    """An update of an asset: by a task that succeeded (source_*), or through the REST API
    (source_* empty; the API shows them as null, as Airflow does)."""

    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="events")
    extra = models.JSONField(default=dict, blank=True)
    source_dag_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    source_task_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    source_run_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    source_map_index = models.IntegerField(default=-1)
    # The asset watcher whose trigger made it (shown in the UI; Airflow records no source for
    # these events, so the REST API shows none either).
    source_watcher_name = models.CharField(max_length=ASSET_FIELD_LENGTH, blank=True, default="")
    timestamp = models.DateTimeField(db_index=True)
    source_aliases = models.ManyToManyField(
        AssetAliasModel, related_name="asset_events", db_table="asset_alias_asset_event"
    )
    # The asset-triggered runs this event started (Airflow's dagrun_asset_event).
    created_dagruns = models.ManyToManyField(
        DagRun, related_name="consumed_asset_events", db_table="dagrun_asset_event"
    )

    class Meta:
        db_table = "asset_event"
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["asset", "timestamp"], name="asset_event_asset_ts_idx")]

    def __str__(self) -> str:
        return f"{self.asset} @ {self.timestamp.isoformat()}"


class DagScheduleAssetReference(models.Model):
    """A DAG's schedule names this asset."""

    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="scheduled_dags")
    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="schedule_asset_refs")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dag_schedule_asset_reference"
        constraints = [
            models.UniqueConstraint(fields=["asset", "dag"], name="dag_schedule_asset_ref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} waits for asset {self.asset_id}"


class DagScheduleAssetAliasReference(models.Model):
    """A DAG's schedule names this alias."""

    alias = models.ForeignKey(
        AssetAliasModel, on_delete=models.CASCADE, related_name="scheduled_dags"
    )
    dag = models.ForeignKey(
        DagModel, on_delete=models.CASCADE, related_name="schedule_asset_alias_refs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dag_schedule_asset_alias_reference"
        constraints = [
            models.UniqueConstraint(fields=["alias", "dag"], name="dag_schedule_alias_ref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} waits for alias {self.alias_id}"


class DagScheduleAssetNameReference(models.Model):
    """A DAG's schedule names an asset by ``Asset.ref(name=...)`` (it may not exist yet)."""

    name = models.CharField(max_length=ASSET_FIELD_LENGTH)
    dag = models.ForeignKey(
        DagModel, on_delete=models.CASCADE, related_name="schedule_asset_name_refs"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dag_schedule_asset_name_reference"
        constraints = [
            models.UniqueConstraint(fields=["name", "dag"], name="dag_schedule_asset_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} waits for the asset named {self.name!r}"


class DagScheduleAssetUriReference(models.Model):
    """A DAG's schedule names an asset by ``Asset.ref(uri=...)`` (it may not exist yet)."""

    uri = models.CharField(max_length=ASSET_FIELD_LENGTH)
    dag = models.ForeignKey(
        DagModel, on_delete=models.CASCADE, related_name="schedule_asset_uri_refs"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dag_schedule_asset_uri_reference"
        constraints = [
            models.UniqueConstraint(fields=["uri", "dag"], name="dag_schedule_asset_uri_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} waits for the asset with URI {self.uri!r}"


class AssetWatcherModel(models.Model):
    """An asset's watcher (Airflow's ``asset_watcher``): its trigger's events are the
    asset's events. The trigger row is shared by the watchers with the same trigger."""

    name = models.CharField(max_length=ASSET_FIELD_LENGTH)
    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="watchers")
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="asset_watchers")

    class Meta:
        db_table = "asset_watcher"
        constraints = [
            models.UniqueConstraint(fields=["asset", "trigger"], name="asset_watcher_unique")
        ]

    def __str__(self) -> str:
        return f"watcher {self.name!r} of asset {self.asset_id} (trigger {self.trigger_id})"


class TaskOutletAssetReference(models.Model):
    """A task of a DAG has this asset among its outlets (it produces it)."""

    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="producing_tasks")
    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="task_outlet_refs")
    task_id = models.CharField(max_length=ID_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "task_outlet_asset_reference"
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "dag", "task_id"], name="task_outlet_asset_ref_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dag_id}.{self.task_id} produces asset {self.asset_id}"


class TaskInletAssetReference(models.Model):
    """A task of a DAG has this asset among its inlets (it reads it)."""

    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="consuming_tasks")
    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="task_inlet_refs")
    task_id = models.CharField(max_length=ID_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "task_inlet_asset_reference"
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "dag", "task_id"], name="task_inlet_asset_ref_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dag_id}.{self.task_id} reads asset {self.asset_id}"


class AssetDagRunQueue(models.Model):
    """An asset with an event ``target_dag`` has not consumed yet (one row per pair)."""

    asset = models.ForeignKey(AssetModel, on_delete=models.CASCADE, related_name="queued_for")
    target_dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="asset_queue")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "asset_dag_run_queue"
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "target_dag"], name="asset_dag_run_queue_unique"
            )
        ]

    def __str__(self) -> str:
        return f"asset {self.asset_id} queued for {self.target_dag_id}"
