"""Pools: named limits on how many task slots may run at once."""

from __future__ import annotations

from django.db import models

DEFAULT_POOL_NAME = "default_pool"
DEFAULT_POOL_SLOTS = 128  # Airflow's [core] default_pool_task_slot_count


class Pool(models.Model):
    """`slots = -1` means unlimited, as in Airflow. The default pool always exists: a data
    migration creates it and deleting it is refused."""

    name = models.CharField(max_length=256, unique=True)
    slots = models.IntegerField(default=DEFAULT_POOL_SLOTS)
    description = models.TextField(blank=True, default="")
    include_deferred = models.BooleanField(default=False)

    class Meta:
        db_table = "slot_pool"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_POOL_NAME

    def delete(self, *args, **kwargs):
        if self.is_default:
            raise ValueError("default_pool cannot be deleted")
        return super().delete(*args, **kwargs)
