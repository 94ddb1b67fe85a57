"""Callback requests: the scheduler (or the triggerer) asks, the DAG processor runs them.

As in Airflow 3, a DAG's `on_success_callback` / `on_failure_callback` is user code and runs
where DAG files are imported — the DAG processor, in a subprocess with the DAG's file — never in
the scheduler. When a run ends, the scheduler writes one row here (in the transaction that ends
the run); a DAG processor claims it, runs the callbacks and records how that went. Their output
goes to the run's callback log (`dagruns.actions.dag_callbacks.callback_log_path`).

A row with a `task_id` is Airflow's TaskCallbackRequest instead: the `on_failure_callback` of a
task its trigger failed in the triggerer (a TaskFailedEvent, `dagruns/actions/trigger_end.py`),
which, as in Airflow 3, runs in the DAG processor because no worker ever sees that end.
"""

from __future__ import annotations

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH


class DagCallbackRequest(models.Model):
    """One DAG-level callback to run for one finished DAG run (Airflow's DagCallbackRequest)."""

    class Outcome(models.TextChoices):
        PENDING = "", "pending"
        SUCCESS = "success", "success"
        FAILED = "failed", "failed"  # a callback raised, or the file could not be imported

    dag_run = models.ForeignKey("dagruns.DagRun", on_delete=models.CASCADE, related_name="+")
    dag_id = models.CharField(max_length=ID_MAX_LENGTH)
    run_id = models.CharField(max_length=ID_MAX_LENGTH)
    # The DAG file of the run's version: the callbacks are that file's.
    fileloc = models.CharField(max_length=2000)
    is_failure = models.BooleanField(help_text="on_failure_callback (else on_success_callback)")
    # Airflow's reasons: "success", "task_failure", "timed_out".
    reason = models.CharField(max_length=50)
    created_at = models.DateTimeField()
    # Claimed by a DAG processor (None: waiting); a claim older than the callback timeout whose
    # processor died is taken again.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    error = models.TextField(blank=True, default="", help_text="One line: what went wrong.")
    # A task's callback (Airflow's TaskCallbackRequest): which try of which task instance;
    # blank for the DAG's own callbacks.
    task_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True, default="")
    map_index = models.IntegerField(default=-1)
    try_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "dag_callback_request"
        indexes = [models.Index(fields=["finished_at", "started_at"], name="callback_pending")]

    def __str__(self) -> str:
        return f"{self.callback_name} of {self.dag_id} / {self.run_id} ({self.reason})"

    @property
    def callback_name(self) -> str:
        """What runs, as the logs name it: the DAG's callback, or task X's."""
        which = "on_failure_callback" if self.is_failure else "on_success_callback"
        if not self.task_id:
            return which
        index = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"task {self.task_id}{index}'s {which}"
