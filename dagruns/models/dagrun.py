"""DAG runs: one execution of a DAG for a logical date (or a manual trigger)."""

from __future__ import annotations

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH, DagModel, DagVersion
from dagruns.models.states import (
    DagRunState,
    DagRunTriggeredBy,
    DagRunType,
    IllegalStateTransition,
    dagrun_transition_allowed,
)


class DagRun(models.Model):
    """A run of one DAG version. `logical_date` is NULL for manual runs triggered without
    one, as Airflow 3 allows; `run_after` is when it may start and orders runs in the grid."""

    dag = models.ForeignKey(DagModel, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=ID_MAX_LENGTH)
    run_type = models.CharField(max_length=20, choices=DagRunType.choices)
    triggered_by = models.CharField(
        max_length=20, choices=DagRunTriggeredBy.choices, blank=True, default=""
    )
    # The person who triggered the run (UI/REST user, the OS user of a CLI command); None for
    # runs the scheduler made (empty here, null in the API). Airflow's `triggering_user_name`.
    triggering_user_name = models.CharField(max_length=512, blank=True, default="")
    state = models.CharField(max_length=20, choices=DagRunState.choices, default=DagRunState.QUEUED)
    logical_date = models.DateTimeField(null=True, blank=True)
    data_interval_start = models.DateTimeField(null=True, blank=True)
    data_interval_end = models.DateTimeField(null=True, blank=True)
    run_after = models.DateTimeField()
    conf = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, default="")
    queued_at = models.DateTimeField(null=True, blank=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    last_scheduling_decision = models.DateTimeField(null=True, blank=True)
    clear_number = models.PositiveIntegerField(default=0)
    dag_version = models.ForeignKey(
        DagVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The backfill that made (or re-made) this run; its runs have run_type "backfill".
    backfill = models.ForeignKey(
        "dagruns.Backfill",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dag_runs",
    )
    # The task instance (a TriggerDagRunOperator) whose try created this run, if any.
    triggered_by_ti = models.ForeignKey(
        "dagruns.TaskInstance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="triggered_runs",
    )

    class Meta:
        db_table = "dag_run"
        constraints = [
            models.UniqueConstraint(fields=["dag", "run_id"], name="dag_run_run_id_unique"),
            models.UniqueConstraint(
                fields=["dag", "logical_date"],
                condition=models.Q(logical_date__isnull=False),
                name="dag_run_logical_date_unique",
            ),
        ]
        indexes = [
            # The scheduler examines active runs.
            models.Index(fields=["state", "dag"], name="dag_run_state_idx"),
            # The grid and run list show a DAG's newest runs.
            models.Index(fields=["dag", "-run_after"], name="dag_run_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dag_id} {self.run_id} [{self.state}]"

    def check_transition(self, target: str, *, manual: bool = False) -> None:
        """Refuse a move the transition table (dagruns/models/states.py) does not allow;
        `manual` is a person setting the state."""
        if not dagrun_transition_allowed(self.state, target, manual=manual):
            raise IllegalStateTransition("DAG run", self.state, target)
