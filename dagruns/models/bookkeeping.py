"""What the system records about itself: import errors, the audit log, process heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH


class DagImportError(models.Model):
    """A DAG file that could not be loaded, with where and why (Airflow's ParseImportError)."""

    filename = models.CharField(max_length=2000, unique=True)
    line_number = models.IntegerField(null=True, blank=True)
    message = models.TextField(help_text="One line: what is wrong.")
    stack_trace = models.TextField()
    timestamp = models.DateTimeField()

    class Meta:
        db_table = "import_error"
        ordering = ["filename"]

    def __str__(self) -> str:
        return f"{self.filename}: {self.message}"


class AuditEvent(models.Model):
    """Who did what, when, to which DAG, run or task (Airflow's event log)."""

    when = models.DateTimeField(auto_now_add=True, db_index=True)
    event = models.CharField(max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    owner = models.CharField(
        max_length=500, blank=True, default="", help_text="Username or system."
    )
    dag_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    run_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    task_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    map_index = models.IntegerField(null=True, blank=True)
    try_number = models.IntegerField(null=True, blank=True)
    logical_date = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "audit_event"
        ordering = ["-when"]
        indexes = [models.Index(fields=["dag_id", "-when"], name="audit_dag_idx")]

    def __str__(self) -> str:
        return f"{self.when:%Y-%m-%d %H:%M:%S} {self.owner} {self.event} {self.dag_id}"


class Job(models.Model):
    """A long-running process (scheduler, dag_processor, triggerer) and its heartbeat, read by
    the health endpoint and by schedulers adopting a dead peer's work."""

    job_type = models.CharField(max_length=30)
    state = models.CharField(max_length=20, default="running")
    hostname = models.CharField(max_length=500, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True, blank=True)
    latest_heartbeat = models.DateTimeField()

    class Meta:
        db_table = "job"
        indexes = [
            models.Index(fields=["job_type", "state", "-latest_heartbeat"], name="job_alive_idx")
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.hostname}:{self.pid} [{self.state}]"
