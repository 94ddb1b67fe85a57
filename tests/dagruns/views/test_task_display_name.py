"""`task_display_name` from the DAG file is what the grid, the graph and the task page show;
the task id stays visible on the task page, and tasks without one show their id."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagImportError
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, EmptyOperator, task

with DAG("named", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task(task_display_name="Fetch the orders ✓")
    def fetch():
        return 1

    fetch() >> EmptyOperator(task_id="plain")
"""


@pytest.fixture
def run(dags_folder):
    write(dags_folder, "named.py", DAG_FILE)
    DagProcessor(timeout=20.0).run_once()
    assert not DagImportError.objects.exists()
    return do_trigger_dag("named", Actor(name="test"))


def test_the_grid_shows_the_display_name(viewer, run):
    html = viewer.get("/dags/named/").content.decode()
    assert '<span class="tlabel">Fetch the orders ✓</span>' in html
    assert '<span class="tlabel">plain</span>' in html


def test_the_graph_shows_the_display_name(viewer, run):
    html = viewer.get("/dags/named/graph").content.decode()
    assert "Fetch the orders ✓" in html
    assert 'data-task-id="fetch"' in html


def test_the_task_page_shows_the_display_name_and_the_task_id(viewer, run):
    html = viewer.get(f"/dags/named/runs/{run.run_id}/tasks/fetch").content.decode()
    assert ">Fetch the orders ✓</a>" in html
    assert '<span class="muted mono ti-task-id">fetch</span>' in html
    plain = viewer.get(f"/dags/named/runs/{run.run_id}/tasks/plain").content.decode()
    assert ">plain</a></h2>" in plain
