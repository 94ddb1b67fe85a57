"""Notes on DAG runs and task instances (Airflow's `note` of a run or task instance).

`write_*_note` change the row and audit it inside the caller's transaction, so an action that
also changes state (PATCH with state and note, clear with a note) commits both or neither;
`do_set_*_note` are the note-only actions.
"""

from __future__ import annotations

from django.db import transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.errors import ActionRefused
from dagruns.actions.text import check_no_nul
from dagruns.models import DagRun, TaskInstance
from dagruns.notify import events

NOTE_MAX_LENGTH = 1000  # Airflow's limit on a note


class NoteInvalid(ActionRefused):
    """A note that cannot be stored; the message says why (length, NUL)."""


# The earlier name, for callers that catch the length error only.
NoteTooLong = NoteInvalid


def check_note(note: str | None) -> str:
    note = note or ""
    if len(note) > NOTE_MAX_LENGTH:
        raise NoteInvalid(f"a note may have at most {NOTE_MAX_LENGTH} characters")
    return check_no_nul(note, "note", NoteInvalid)


def write_run_note(run: DagRun, note: str, actor: Actor) -> None:
    """Store a checked note on a run; call inside the action's transaction."""
    DagRun.objects.filter(pk=run.pk).update(note=note)
    run.note = note
    record(actor, "set_dag_run_note", dag_id=run.dag_id, run_id=run.run_id)
    events.notify("run", dag_id=run.dag_id, run_id=run.run_id)


def write_ti_notes(tis: list[TaskInstance], note: str, actor: Actor) -> None:
    """Store a checked note on task instances; call inside the action's transaction."""
    TaskInstance.objects.filter(pk__in=[ti.pk for ti in tis]).update(note=note)
    for ti in tis:
        ti.note = note
        record(
            actor,
            "set_task_instance_note",
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
        )
        events.notify("ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id)


def do_set_run_note(run: DagRun, note: str | None, actor: Actor) -> DagRun:
    note = check_note(note)
    with transaction.atomic():
        write_run_note(run, note, actor)
    return run


def do_set_ti_note(ti: TaskInstance, note: str | None, actor: Actor) -> TaskInstance:
    note = check_note(note)
    with transaction.atomic():
        write_ti_notes([ti], note, actor)
    return ti
