"""DAGs as the metadata database knows them: one row per dag_id, its versions and tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models

ID_MAX_LENGTH = 250  # Airflow's ID_LEN


class DagModel(models.Model):
    """A DAG seen by the DAG processor. The structure lives in its versions; this row holds
    what the scheduler and the DAG list need without reading a serialized DAG."""

    dag_id = models.CharField(primary_key=True, max_length=ID_MAX_LENGTH)
    fileloc = models.CharField(max_length=2000, help_text="Absolute path of the DAG file.")
    relative_fileloc = models.CharField(max_length=2000, blank=True, default="")
    is_paused = models.BooleanField(default=False)
    is_active = models.BooleanField(
        default=True, help_text="False once its file vanished or stopped defining it."
    )
    description = models.TextField(blank=True, default="")
    # Airflow's `dag_display_name=` (the dag_id unless the DAG sets one), shown on the DAG's
    # pages and in the REST API's DAG answers.
    dag_display_name = models.CharField(max_length=2000, blank=True, default="")
    owners = models.CharField(max_length=2000, blank=True, default="")
    timetable_summary = models.CharField(max_length=1000, blank=True, default="")
    timetable_description = models.CharField(max_length=1000, blank=True, default="")
    max_active_tasks = models.IntegerField(default=16)
    max_active_runs = models.IntegerField(default=16)
    has_import_errors = models.BooleanField(default=False)
    last_parsed_time = models.DateTimeField(null=True, blank=True)
    next_dagrun = models.DateTimeField(null=True, blank=True, help_text="Logical date.")
    next_dagrun_data_interval_start = models.DateTimeField(null=True, blank=True)
    next_dagrun_data_interval_end = models.DateTimeField(null=True, blank=True)
    next_dagrun_create_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "dag"
        ordering = ["dag_id"]
        indexes = [
            # The scheduler's "which DAGs are due" query.
            models.Index(
                fields=["is_active", "is_paused", "next_dagrun_create_after"],
                name="dag_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.dag_id

    def save(self, *args, **kwargs) -> None:
        # Airflow's default display name is the dag_id; filters and ordering rely on one.
        if not self.dag_display_name:
            self.dag_display_name = self.dag_id
        super().save(*args, **kwargs)

    def latest_version(self) -> DagVersion | None:
        return self.versions.order_by("-version_number").first()


class DagTag(models.Model):
    """One tag of a DAG (a table, not a JSON list, so tag filters use an index)."""

    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "dag_tag"
        constraints = [models.UniqueConstraint(fields=["dag", "name"], name="dag_tag_unique")]
        indexes = [models.Index(fields=["name"], name="dag_tag_name_idx")]

    def __str__(self) -> str:
        return self.name


class DagFavorite(models.Model):
    """A DAG one user starred in the DAG list (Airflow 3.1's `dag_favorite`): favourites are
    per user, so the list's "favourites" filter shows each person their own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorite_dags"
    )
    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="favorites")

    class Meta:
        db_table = "dag_favorite"
        constraints = [models.UniqueConstraint(fields=["user", "dag"], name="dag_favorite_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.dag_id}"


class DagVersion(models.Model):
    """One structure of a DAG. A new version is stored only when the serialized structure
    changes; runs are pinned to the version they were created with."""

    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="versions")
    version_number = models.PositiveIntegerField()
    serialized = models.JSONField()
    structure_hash = models.CharField(max_length=64)
    source_code = models.TextField(blank=True, default="")
    source_hash = models.CharField(max_length=64, blank=True, default="")
    fileloc = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dag_version"
        ordering = ["dag_id", "version_number"]
        constraints = [
            models.UniqueConstraint(fields=["dag", "version_number"], name="dag_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} v{self.version_number}"


class DagFile(models.Model):
    """The DAG processor's memory of a file: what it looked like when last parsed, so an
    unchanged file is not parsed again."""

    fileloc = models.CharField(max_length=2000, unique=True)
    mtime = models.FloatField()
    size = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)
    dag_ids = models.JSONField(default=list)
    last_parsed_at = models.DateTimeField()
    parse_duration = models.FloatField(default=0.0)

    class Meta:
        db_table = "dag_file"

    def __str__(self) -> str:
        return self.fileloc
