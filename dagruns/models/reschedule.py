"""TaskReschedule: one row each time a sensor in reschedule mode gave back its slot."""

from __future__ import annotations

from django.db import models

from dagruns.models.taskinstance import TaskInstance


class TaskReschedule(models.Model):
    """A run of a try that ended ``up_for_reschedule`` (Airflow's task_reschedule table):
    when that run started and ended, and when the sensor asked to be run again.

    Airflow 3 gives every try its own task-instance id and keys these rows by it; our task
    instance keeps its id across tries, so the row names its try. The first row of a try is
    where a reschedule-mode sensor's ``timeout`` started counting."""

    task_instance = models.ForeignKey(
        TaskInstance, on_delete=models.CASCADE, related_name="reschedules"
    )
    try_number = models.PositiveIntegerField()
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    duration = models.FloatField()
    reschedule_date = models.DateTimeField()

    class Meta:
        db_table = "task_reschedule"
        indexes = [
            models.Index(fields=["task_instance", "try_number"], name="task_reschedule_ti_try_idx")
        ]

    def __str__(self) -> str:
        return f"{self.task_instance_id} try {self.try_number} → {self.reschedule_date:%Y-%m-%d %H:%M:%S}"
