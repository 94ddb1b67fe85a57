"""Which triggerer runs which trigger: a lease on the trigger row (`Trigger.triggerer_id`, a
triggerer's Job id), so several triggerers share the triggers and none runs one twice.

A trigger is free when it has no triggerer, or its triggerer's Job is not a live one (ended,
or no heartbeat within ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD: it was killed or hangs). Claims
are one transaction: on PostgreSQL the free rows are read FOR UPDATE SKIP LOCKED, so two
triggerers claiming at once never take the same row (each skips what the other has locked),
and the UPDATE repeats the "still free" condition, so a row whose lease another triggerer
took just before is left alone. On SQLite the IMMEDIATE transaction makes the claim exclusive.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from dagruns.models import Job, Trigger

JOB_TYPE = "triggerer"


def alive_triggerer_ids(now: datetime) -> list[int]:
    threshold = timedelta(seconds=settings.ORCH.triggerer_health_check_threshold)
    return list(
        Job.objects.filter(
            job_type=JOB_TYPE, state="running", latest_heartbeat__gte=now - threshold
        ).values_list("pk", flat=True)
    )


def _free(alive: list[int]) -> Q:
    return Q(triggerer_id__isnull=True) | ~Q(triggerer_id__in=alive)


def claim(triggerer_id: int, limit: int, now: datetime) -> list[int]:
    """Take up to `limit` free triggers, oldest first, for `triggerer_id`; their ids."""
    if limit <= 0:
        return []
    with transaction.atomic():
        alive = [*alive_triggerer_ids(now), triggerer_id]
        free = Trigger.objects.filter(_free(alive)).order_by("pk")
        if connection.vendor != "sqlite":
            free = free.select_for_update(skip_locked=True)
        ids = list(free.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Trigger.objects.filter(_free(alive), pk__in=ids).update(triggerer_id=triggerer_id)
        return list(
            Trigger.objects.filter(pk__in=ids, triggerer_id=triggerer_id).values_list(
                "pk", flat=True
            )
        )


def held_by(triggerer_id: int) -> set[int]:
    """The triggers `triggerer_id` holds now: what it should be running."""
    return set(Trigger.objects.filter(triggerer_id=triggerer_id).values_list("pk", flat=True))


def release(triggerer_id: int, trigger_ids: list[int] | None = None) -> int:
    """Give triggers back (a stopping triggerer), so another takes them at once."""
    held = Trigger.objects.filter(triggerer_id=triggerer_id)
    if trigger_ids is not None:
        held = held.filter(pk__in=trigger_ids)
    return held.update(triggerer_id=None)
