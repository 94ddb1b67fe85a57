"""`tasks clear --dry-run` lists the clear action's own dry run and changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dagruns.models import AuditEvent, TaskInstance
from tests.builders import make_run, set_state, ti_of

pytestmark = pytest.mark.django_db


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


def test_dry_run_lists_what_the_clear_then_clears():
    dag_run = make_run(edges={"a": ["b"], "b": ["c"], "c": []})
    for task_id in "abc":
        set_state(ti_of(dag_run, task_id), "success")
    listed = run("tasks", "clear", "etl", "-t", "^b$", "-d", "--dry-run")
    assert [line.split()[1].split(".")[1] for line in listed.splitlines()] == ["b", "c"]
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {"success"}
    assert not AuditEvent.objects.exists()
    cleared = run("tasks", "clear", "etl", "-t", "^b$", "-d", "-y")
    assert cleared.splitlines()[:-1] == listed.splitlines()
    assert {t.task_id for t in TaskInstance.objects.filter(state=None)} == {"b", "c"}
