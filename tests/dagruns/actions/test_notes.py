"""Notes on runs and task instances."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.notes import NoteInvalid, NoteTooLong, do_set_run_note, do_set_ti_note
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


def test_each_note_emits_an_event_for_its_page(published, on_commit):
    run = make_run()
    with on_commit():
        do_set_run_note(run, "looked", ACTOR)
        do_set_ti_note(ti_of(run, "load"), "slow", ACTOR)
    assert [(e["kind"], e["task_id"]) for e in published] == [("run", ""), ("ti", "load")]
    assert [a.event for a in AuditEvent.objects.order_by("id")] == [
        "set_dag_run_note",
        "set_task_instance_note",
    ]


def test_a_nul_in_a_note_is_refused():
    with pytest.raises(NoteInvalid, match="NUL characters"):
        do_set_run_note(make_run(), "a\x00b", ACTOR)
