"""`dag_display_name` from the DAG file names the DAG in the DAG list and on its pages (the
dag_id stays visible next to it); a DAG without one is named by its dag_id."""

from __future__ import annotations

import pytest

from dagruns.models import DagImportError
from scheduler.processor.loop import DagProcessor
from tests.builders import simple_dag, write

pytestmark = pytest.mark.django_db

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, EmptyOperator

with DAG("named", dag_display_name="Orders ✓ report", schedule=None,
         start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="a")
"""


@pytest.fixture
def parsed(dags_folder):
    write(dags_folder, "named.py", DAG_FILE)
    write(dags_folder, "plain.py", simple_dag("plain"))
    DagProcessor(timeout=20.0).run_once()
    assert not DagImportError.objects.exists()


def test_the_dag_list_shows_the_display_name_and_the_dag_id(viewer, parsed):
    html = viewer.get("/").content.decode()
    assert ">Orders ✓ report</a>" in html
    assert '<span class="muted mono">named</span>' in html
    assert ">plain</a>" in html and '<span class="muted mono">plain</span>' not in html


def test_the_dags_page_is_headed_by_its_display_name(viewer, parsed):
    html = viewer.get("/dags/named/").content.decode()
    assert ">Orders ✓ report</a>" in html and '<span class="muted mono">named</span>' in html
