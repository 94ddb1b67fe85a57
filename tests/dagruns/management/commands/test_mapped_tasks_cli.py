"""`dags test` and `tasks test --map-index` with a mapped task."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import DagRun, TaskInstance
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db(transaction=True)

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator, task

with DAG("mapped_cli", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task
    def total(values):
        print("TOTAL", sum(values))

    @task
    def square(x):
        print("SQUARE OF", x)
        return x * x

    BashOperator.partial(task_id="echo").expand(bash_command=["echo first", "echo second"])
    total(square.expand(x=[1, 2, 3]))
"""


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def parsed(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    write(dags_folder, "mapped_cli.py", DAG_FILE)
    DagProcessor().run_once()


def test_dags_test_runs_every_instance_and_prints_each_log(parsed):
    out = run("dags", "test", "mapped_cli")
    for line in ("SQUARE OF 1", "SQUARE OF 2", "SQUARE OF 3", "TOTAL 14", "first", "second"):
        assert line in out
    assert "--- square[2] (try 1)" in out
    assert DagRun.objects.get().state == "success"
    assert TaskInstance.objects.filter(task_id="square").count() == 3


def test_tasks_test_runs_the_instance_given_by_map_index(parsed):
    out = run("tasks", "test", "mapped_cli", "echo", "--map-index", "1")
    assert "second" in out and "first" not in out
    assert "Task echo[1] finished: success" in out
    assert not DagRun.objects.exists()  # nothing kept


def test_tasks_test_of_a_mapped_task_needs_a_map_index(parsed):
    with pytest.raises(CommandError, match="'echo' is mapped: pass --map-index"):
        run("tasks", "test", "mapped_cli", "echo")


def test_tasks_test_refuses_a_map_index_for_an_unmapped_task(parsed):
    with pytest.raises(CommandError, match="'total' is not mapped"):
        run("tasks", "test", "mapped_cli", "total", "--map-index", "0")
