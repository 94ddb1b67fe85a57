"""Backfills (Airflow 3's `Backfill` and `BackfillDagRun`): runs of a DAG for a range of past
dates, made by the scheduler at most `max_active_runs` at a time.

`BackfillDagRunMap` is the plan: one row per logical date, in the order the runs are made
(`sort_ordinal`). A row gets its `dag_run` when the scheduler makes (or reuses, by clearing)
the run for its date, or an `exception_reason` when it decides not to (Airflow's reasons).
A row with neither is still to be done."""

from __future__ import annotations

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH, DagModel


class ReprocessBehavior(models.TextChoices):
    """What a backfill does with a date that already has a run (Airflow's ReprocessBehavior)."""

    NONE = "none"
    FAILED = "failed"
    COMPLETED = "completed"


class BackfillDagRunExceptionReason(models.TextChoices):
    """Why a backfill made no run for a date (Airflow's BackfillDagRunExceptionReason)."""

    IN_FLIGHT = "in flight"
    ALREADY_EXISTS = "already exists"
    UNKNOWN = "unknown"


class Backfill(models.Model):
    """One backfill of a DAG between two logical dates. While `is_paused` the scheduler makes
    no new runs for it; `completed_at` is set when its last run finished or it was cancelled.
    Only one backfill of a DAG may be uncompleted at a time, as in Airflow."""

    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="backfills")
    from_date = models.DateTimeField()
    to_date = models.DateTimeField()
    dag_run_conf = models.JSONField(default=dict, blank=True)
    is_paused = models.BooleanField(default=False)
    reprocess_behavior = models.CharField(
        max_length=20, choices=ReprocessBehavior.choices, default=ReprocessBehavior.NONE
    )
    max_active_runs = models.PositiveIntegerField(default=10)
    run_backwards = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    triggering_user_name = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        db_table = "backfill"
        indexes = [
            # The scheduler looks for the uncompleted backfills each tick.
            models.Index(fields=["completed_at", "dag"], name="backfill_active_idx"),
        ]

    def __str__(self) -> str:
        return f"backfill {self.pk} of {self.dag_id} {self.from_date} → {self.to_date}"


class BackfillDagRunMap(models.Model):
    """One logical date of a backfill: the run made for it, or why none was made."""

    backfill = models.ForeignKey(Backfill, on_delete=models.CASCADE, related_name="date_rows")
    dag_run = models.ForeignKey(
        "dagruns.DagRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backfill_rows",
    )
    exception_reason = models.CharField(
        max_length=ID_MAX_LENGTH,
        choices=BackfillDagRunExceptionReason.choices,
        blank=True,
        default="",
    )
    logical_date = models.DateTimeField()
    data_interval_start = models.DateTimeField()
    data_interval_end = models.DateTimeField()
    run_after = models.DateTimeField()
    sort_ordinal = models.PositiveIntegerField()

    class Meta:
        db_table = "backfill_dag_run"
        constraints = [
            models.UniqueConstraint(
                fields=["backfill", "sort_ordinal"], name="backfill_dag_run_ordinal_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(sort_ordinal__gte=1), name="backfill_dag_run_ordinal_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"backfill {self.backfill_id} #{self.sort_ordinal} {self.logical_date}"

    @property
    def is_pending(self) -> bool:
        return self.dag_run_id is None and not self.exception_reason
