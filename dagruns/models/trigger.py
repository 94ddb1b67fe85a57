"""Triggers: what deferred task instances wait on, run by the triggerer processes.

One row per deferral (a task instance's `trigger` points at it while it is deferred). Its
kwargs are encrypted at rest, as connection passwords and variables are: a trigger is built
from them and they often carry credentials (Airflow encrypts them too). `triggerer_id` is the
lease: the Job id of the triggerer running it; NULL, or the id of a triggerer whose heartbeat
stopped, means any triggerer may claim it (scheduler/triggerer/lease.py).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from dagruns.domain.crypto import decrypt, encrypt


class Trigger(models.Model):
    classpath = models.CharField(max_length=1000)
    encrypted_kwargs = models.TextField()
    created_date = models.DateTimeField()
    # The Job id of the triggerer holding the lease. A plain id, not a foreign key: Job rows
    # are housekeeping and may be cleaned while a trigger waits.
    triggerer_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "trigger"
        indexes = [models.Index(fields=["triggerer_id"], name="trigger_triggerer_idx")]

    def __str__(self) -> str:
        return f"trigger {self.pk} {self.classpath}"

    @property
    def kwargs(self) -> dict[str, Any]:
        """The encoded kwargs (dagruns/sdk/triggers/serde.py), decrypted."""
        return json.loads(decrypt(self.encrypted_kwargs))

    @kwargs.setter
    def kwargs(self, value: dict[str, Any]) -> None:
        self.encrypted_kwargs = encrypt(json.dumps(value))
