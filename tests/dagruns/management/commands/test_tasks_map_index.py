"""`tasks state`, `tasks failed-deps` and `tasks clear` with mapped task instances: `--map-index`
picks one instance; on an unmapped task, or past the last index, it is a clear error."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dagruns.models import TaskInstance
from tests.builders import make_run
from tests.mapped_rows import expand

pytestmark = pytest.mark.django_db

RUN = "scheduled__2024-01-01T00:00:00+00:00"


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def fan():
    dag_run = make_run(edges={"make": ["work"], "work": []})
    TaskInstance.objects.filter(dag_run=dag_run, task_id="make").update(state="success")
    expand(dag_run, "work", ["success", "failed", None])
    return dag_run


def test_state_of_one_mapped_instance_by_run_id_or_logical_date(fan):
    assert run("tasks", "state", "etl", "work", RUN, "--map-index", "1") == "failed\n"
    assert run("tasks", "state", "etl", "work", "2024-01-01", "--map-index", "0") == "success\n"
    assert run("tasks", "state", "etl", "work", RUN, "--map-index", "2") == "None\n"
    assert run("tasks", "state", "etl", "make", RUN) == "success\n"


def test_map_index_on_an_unmapped_task_is_a_clear_error(fan):
    with pytest.raises(CommandError, match=r"--map-index 0: Task 'make' is not mapped"):
        run("tasks", "state", "etl", "make", RUN, "--map-index", "0")


def test_a_map_index_past_the_last_one_names_the_range(fan):
    with pytest.raises(
        CommandError, match=r"has no map index 7: it has 3 instances, map index 0\.\.2"
    ):
        run("tasks", "state", "etl", "work", RUN, "--map-index", "7")


def test_a_mapped_task_without_map_index_asks_for_one(fan):
    with pytest.raises(CommandError, match="is mapped: give a map index"):
        run("tasks", "state", "etl", "work", RUN)


def test_bad_run_and_negative_index_are_refused(fan):
    with pytest.raises(CommandError, match="neither a run id"):
        run("tasks", "state", "etl", "work", "yesterday", "--map-index", "0")
    with pytest.raises(CommandError, match="-1 or more"):
        run("tasks", "state", "etl", "work", RUN, "--map-index", "-4")


def test_failed_deps_of_one_waiting_instance(fan):
    TaskInstance.objects.filter(dag_run=fan, task_id="make").update(state="running")
    waiting = run("tasks", "failed-deps", "etl", "work", RUN, "--map-index", "2").splitlines()
    assert waiting[0] == "Task instance dependencies not met:"
    assert any(line.startswith("Trigger Rule: ") and "make" in line for line in waiting[1:])
    done = run("tasks", "failed-deps", "etl", "work", RUN, "--map-index", "0")
    assert done == "Task instance dependencies are all met.\n"


def test_clear_lists_mapped_instances_with_their_map_index(fan):
    listed = run("tasks", "clear", "etl", "-t", "^work$", "--dry-run")
    assert listed.splitlines() == [
        f"<TaskInstance: etl.work {RUN} map_index=0 [success]>",
        f"<TaskInstance: etl.work {RUN} map_index=1 [failed]>",
        f"<TaskInstance: etl.work {RUN} map_index=2 [none]>",
    ]


def test_states_for_dag_run_has_a_row_per_instance(fan):
    out = run("tasks", "states-for-dag-run", "etl", RUN, "--output", "json")
    assert '"map_index": 1' in out and '"map_index": -1' in out
