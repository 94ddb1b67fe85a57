"""Adopting a try whose runner outlived its scheduler: exactly one scheduler wins the claim."""

from __future__ import annotations

import pytest

from dagruns.actions.adoption import claim_try
from dagruns.models import DagRun, TaskInstance
from tests.builders import make_run, queue, set_state, ti_of

pytestmark = pytest.mark.django_db


def launched_by(run: DagRun, task_id: str, job_id: int | None, state: str) -> TaskInstance:
    ti = queue(ti_of(run, task_id))
    ti.queued_by_job_id = job_id
    ti.save(update_fields=["queued_by_job_id"])
    return set_state(ti, state)


def test_of_two_schedulers_adopting_one_try_only_the_first_gets_it():
    ti = launched_by(make_run(), "extract", 1, "running")
    assert claim_try(str(ti.pk), ti.try_number, 1, 2) is True
    # The second read the row before the first claimed it: still launcher 1. It loses.
    assert claim_try(str(ti.pk), ti.try_number, 1, 3) is False
    ti.refresh_from_db()
    assert ti.queued_by_job_id == 2


def test_a_try_that_moved_on_is_not_adopted():
    run = make_run()
    ended = launched_by(run, "extract", 1, "success")
    assert claim_try(str(ended.pk), ended.try_number, 1, 2) is False
    queued = launched_by(run, "load", None, "queued")
    assert claim_try(str(queued.pk), queued.try_number + 1, None, 2) is False  # another try
    assert claim_try(str(queued.pk), queued.try_number, None, 2) is True
