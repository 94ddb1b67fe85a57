"""Notes on DAG runs and task instances (Airflow's `note` of a run or task instance)."""

from __future__ import annotations

from django.db import transaction

from dagruns.actions.audit import Actor, record
from dagruns.models import DagRun, TaskInstance

NOTE_MAX_LENGTH = 1000  # Airflow's limit on a note


class NoteTooLong(ValueError):
    pass


def check_note(note: str | None) -> str:
    note = note or ""
    if len(note) > NOTE_MAX_LENGTH:
        raise NoteTooLong(f"a note may have at most {NOTE_MAX_LENGTH} characters")
    return note


def do_set_run_note(run: DagRun, note: str | None, actor: Actor) -> DagRun:
    note = check_note(note)
    with transaction.atomic():
        DagRun.objects.filter(pk=run.pk).update(note=note)
        run.note = note
        record(actor, "set_dag_run_note", dag_id=run.dag_id, run_id=run.run_id)
    return run


def do_set_ti_note(ti: TaskInstance, note: str | None, actor: Actor) -> TaskInstance:
    note = check_note(note)
    with transaction.atomic():
        TaskInstance.objects.filter(pk=ti.pk).update(note=note)
        ti.note = note
        record(
            actor,
            "set_task_instance_note",
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
        )
    return ti
