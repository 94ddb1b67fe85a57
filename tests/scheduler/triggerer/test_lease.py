"""Triggerers share triggers by lease: free triggers are claimed up to a limit, a dead
triggerer's are taken over, a live one's never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.domain.jobs import end_job, start_job
from dagruns.models import Job, Trigger
from scheduler.triggerer import lease

pytestmark = pytest.mark.django_db


def triggers(n: int, holder: int | None = None) -> list[int]:
    now = timezone.now()
    return [
        Trigger.objects.create(
            classpath="x.Y", encrypted_kwargs="", created_date=now, triggerer_id=holder
        ).pk
        for _ in range(n)
    ]


def test_a_triggerer_claims_free_triggers_oldest_first_up_to_its_limit():
    ids = triggers(5)
    me = start_job("triggerer")
    assert lease.claim(me.pk, 3, timezone.now()) == ids[:3]
    assert lease.held_by(me.pk) == set(ids[:3])
    assert lease.claim(me.pk, 0, timezone.now()) == []


def test_a_live_triggerers_triggers_are_never_claimed_by_another():
    other = start_job("triggerer")
    theirs = triggers(2, holder=other.pk)
    me = start_job("triggerer")
    assert lease.claim(me.pk, 10, timezone.now()) == []
    assert lease.held_by(other.pk) == set(theirs)


def test_a_silent_or_ended_triggerers_triggers_are_taken_over(orch_settings):
    orch_settings.triggerer_health_check_threshold = 5
    silent = start_job("triggerer")
    Job.objects.filter(pk=silent.pk).update(latest_heartbeat=timezone.now() - timedelta(seconds=6))
    ended = start_job("triggerer")
    end_job(ended)
    orphans = triggers(2, holder=silent.pk) + triggers(1, holder=ended.pk)
    me = start_job("triggerer")
    assert sorted(lease.claim(me.pk, 10, timezone.now())) == orphans


def test_a_scheduler_job_is_not_a_triggerer():
    scheduler = start_job("scheduler")
    ids = triggers(1, holder=scheduler.pk)
    me = start_job("triggerer")
    assert lease.claim(me.pk, 10, timezone.now()) == ids


def test_released_triggers_are_free_again():
    me = start_job("triggerer")
    ids = triggers(3, holder=me.pk)
    assert lease.release(me.pk, ids[:1]) == 1
    assert lease.held_by(me.pk) == set(ids[1:])
    assert lease.release(me.pk) == 2
    assert not lease.held_by(me.pk)
