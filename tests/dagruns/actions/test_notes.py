"""Notes on runs and task instances."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.notes import NoteTooLong, do_set_run_note, do_set_ti_note
from dagruns.models import AuditEvent, DagRun, TaskInstance
from tests.builders import make_run, ti_of

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_notes_are_stored_and_audited():
    run = make_run()
    do_set_run_note(run, "looked", ACTOR)
    do_set_ti_note(ti_of(run, "load"), "slow", ACTOR)
    assert DagRun.objects.get().note == "looked"
    assert TaskInstance.objects.get(task_id="load").note == "slow"
    assert AuditEvent.objects.count() == 2


def test_a_note_over_1000_characters_is_refused():
    with pytest.raises(NoteTooLong):
        do_set_run_note(make_run(), "x" * 1001, ACTOR)
