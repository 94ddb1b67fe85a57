"""XComs: small JSON values tasks pass to each other."""

from __future__ import annotations

from django.db import models

from dagruns.models.dag import ID_MAX_LENGTH
from dagruns.models.dagrun import DagRun

XCOM_RETURN_KEY = "return_value"


class XCom(models.Model):
    """One value pushed by a task instance under a key (`return_value` for TaskFlow results)."""

    dag_run = models.ForeignKey(DagRun, on_delete=models.CASCADE, related_name="xcoms")
    dag_id = models.CharField(max_length=ID_MAX_LENGTH)
    run_id = models.CharField(max_length=ID_MAX_LENGTH)
    task_id = models.CharField(max_length=ID_MAX_LENGTH)
    map_index = models.IntegerField(default=-1)
    key = models.CharField(max_length=512)
    value = models.JSONField(null=True)
    timestamp = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "xcom"
        constraints = [
            models.UniqueConstraint(
                fields=["dag_run", "task_id", "map_index", "key"], name="xcom_unique"
            )
        ]
        indexes = [models.Index(fields=["dag_id", "run_id", "task_id"], name="xcom_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.dag_id}.{self.task_id} {self.run_id} {self.key}"
