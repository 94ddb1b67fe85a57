"""XComs: small JSON values tasks pass to each other.

Values are encrypted at rest with the same Fernet keys as variables and connection passwords
(dagruns.domain.crypto): a task's return value often carries what it read from a secret. Only
the Execution API hands the clear value back (to tasks of the same run); pages and the REST API
show it through the server-side masker (dagruns.domain.masking).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from dagruns.domain.crypto import decrypt, encrypt
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
    # The Fernet token of the value's JSON text; "" stands for a stored JSON null.
    encrypted_value = models.TextField(blank=True, default="")
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

    @property
    def value(self) -> Any:
        """The clear value: for the task (Execution API) and for maskers, never shown as is."""
        return json.loads(decrypt(self.encrypted_value)) if self.encrypted_value else None

    @value.setter
    def value(self, value: Any) -> None:
        self.encrypted_value = encrypt_value(value)


def encrypt_value(value: Any) -> str:
    """The stored form of an XCom value (compact JSON, encrypted; "" for null)."""
    if value is None:
        return ""
    return encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False))
