"""Task instances (one per task per run) and their history (one row per finished try)."""

from __future__ import annotations

import uuid

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH, DagVersion
from dagruns.models.dagrun import DagRun
from dagruns.models.states import IllegalStateTransition, TaskInstanceState, ti_transition_allowed


class TaskInstanceFields(models.Model):
    """What a try of a task looks like; shared by the live row and its history."""

    dag_id = models.CharField(max_length=ID_MAX_LENGTH)
    run_id = models.CharField(max_length=ID_MAX_LENGTH)
    task_id = models.CharField(max_length=ID_MAX_LENGTH)
    map_index = models.IntegerField(default=-1)
    # NULL is Airflow's "none" state (created, not yet considered); the REST API returns
    # `"state": null` for it, so we store it the same way rather than as "".
    state = models.CharField(  # noqa: DJ001
        max_length=20, choices=TaskInstanceState.choices, null=True, blank=True
    )
    try_number = models.PositiveIntegerField(default=0)
    max_tries = models.IntegerField(default=0)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    scheduled_dttm = models.DateTimeField(null=True, blank=True)
    queued_dttm = models.DateTimeField(null=True, blank=True)
    hostname = models.CharField(max_length=1000, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    pool = models.CharField(max_length=256, default="default_pool")
    pool_slots = models.IntegerField(default=1)
    queue = models.CharField(max_length=256, default="default")
    priority_weight = models.IntegerField(default=1)
    operator = models.CharField(max_length=1000, blank=True, default="")
    # The task's `task_display_name` from the DAG file ("" when it set none): what the UI and
    # the REST API show, kept on the row as Airflow keeps it, so lists need no DAG version.
    task_display_name = models.CharField(max_length=2000, blank=True, default="")
    executor = models.CharField(max_length=1000, blank=True, default="")
    executor_config = models.JSONField(default=dict, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    rendered_fields = models.JSONField(default=dict, blank=True)
    # A mapped instance's name for people: its task's map_index_template rendered after the
    # try ran (Airflow's rendered_map_index); NULL when there is none.
    rendered_map_index = models.CharField(max_length=250, null=True, blank=True)  # noqa: DJ001
    cpu_time = models.FloatField(null=True, blank=True, help_text="Seconds of CPU.")
    peak_memory = models.BigIntegerField(null=True, blank=True, help_text="Bytes (max RSS).")
    note = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TaskInstance(TaskInstanceFields):
    """The current try of one task in one run. The id is what the Execution API addresses."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dag_run = models.ForeignKey(DagRun, on_delete=models.CASCADE, related_name="task_instances")
    dag_version = models.ForeignKey(
        DagVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Airflow's queued_by_job_id: the scheduler Job that queued the current try, so a scheduler
    # starting up can tell a dead peer's unstarted tries from a live one's (scheduling/
    # recovery.py). A plain id, not a foreign key: Job rows are housekeeping and may be cleaned.
    queued_by_job_id = models.BigIntegerField(null=True, blank=True)
    # Airflow's external_executor_id: the Celery message id (task id) of the current try's
    # latest message, so a scheduler adopting the try after its queuer died reads its result
    # from the result backend and can revoke it (scheduler/executors/celery_adoption.py).
    external_executor_id = models.CharField(  # noqa: DJ001
        max_length=250, null=True, blank=True
    )
    # Deferral (Airflow's columns): while deferred, the trigger it waits on and when the wait
    # times out; once the trigger fired, the method the next runner resumes at and its kwargs
    # (with `event`), JSON-encoded by dagruns/sdk/triggers/serde.py.
    trigger = models.ForeignKey(
        "dagruns.Trigger", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger_timeout = models.DateTimeField(null=True, blank=True)
    next_method = models.CharField(max_length=1000, null=True, blank=True)  # noqa: DJ001
    next_kwargs = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "task_instance"
        constraints = [
            models.UniqueConstraint(
                fields=["dag_run", "task_id", "map_index"], name="ti_unique_per_run"
            )
        ]
        indexes = [
            # The scheduler picks ready work by state and pool, ordered by priority.
            models.Index(fields=["state", "pool", "-priority_weight"], name="ti_ready_idx"),
            # max_active_tasks counts a DAG's occupying task instances.
            models.Index(fields=["dag_id", "state"], name="ti_dag_state_idx"),
            # The grid reads one DAG's task instances for a set of runs.
            models.Index(fields=["dag_id", "run_id", "task_id"], name="ti_grid_idx"),
            # Zombie detection: running tasks with an old heartbeat.
            models.Index(fields=["state", "last_heartbeat_at"], name="ti_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix} {self.run_id} [{self.state or 'none'}]"

    def check_transition(self, target: str | None, *, manual: bool = False) -> None:
        """Refuse a move the transition table (dagruns/models/states.py) does not allow;
        `manual` is a person's clear or mark. Every single-row transition asks this first."""
        if not ti_transition_allowed(self.state, target, manual=manual):
            raise IllegalStateTransition("task instance", self.state, target)


class TaskInstanceHistory(TaskInstanceFields):
    """A finished try, kept when a task is retried or cleared so every try keeps its record."""

    task_instance = models.ForeignKey(
        TaskInstance, on_delete=models.CASCADE, related_name="history"
    )
    dag_version = models.ForeignKey(
        DagVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "task_instance_history"
        constraints = [
            models.UniqueConstraint(
                fields=["task_instance", "try_number"], name="ti_history_unique_try"
            )
        ]
        indexes = [models.Index(fields=["dag_id", "run_id", "task_id"], name="ti_history_idx")]

    def __str__(self) -> str:
        return f"{self.dag_id}.{self.task_id} {self.run_id} try {self.try_number}"
