"""DAG files that read variables and connections at their top level, as Airflow 3's DAG
processor allows: answered by the processor from the database, over the parser's pipe."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, Connection, DagImportError, DagModel, Variable
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db

HEADER = """\
from datetime import datetime
from dagruns.sdk import DAG, Connection, EmptyOperator, Variable
"""


def run() -> None:
    DagProcessor(timeout=20.0).run_once()


def store_variable(key: str, value: str) -> None:
    var = Variable(key=key)
    var.val = value
    var.save()


def errors() -> dict[str, str]:
    return dict(DagImportError.objects.values_list("filename", "message"))


def test_a_top_level_variable_get_reads_the_database(dags_folder):
    store_variable("dag_ids", '["alpha", "beta"]')
    store_variable("owner", "data-team")
    write(
        dags_folder,
        "generated.py",
        HEADER
        + """
for dag_id in Variable.get("dag_ids", deserialize_json=True):
    with DAG(dag_id, schedule=None, start_date=datetime(2024, 1, 1),
             tags=[Variable.get("owner"), Variable.get("missing", default_var="fallback")]):
        EmptyOperator(task_id="only")
""",
    )

    run()

    assert errors() == {}
    assert set(DagModel.objects.values_list("dag_id", flat=True)) == {"alpha", "beta"}
    assert set(DagModel.objects.get(dag_id="alpha").tags.values_list("name", flat=True)) == {
        "data-team",
        "fallback",
    }


def test_a_top_level_connection_get_reads_the_database(dags_folder):
    conn = Connection(conn_id="source", conn_type="http", host="api.example")
    conn.save()
    write(
        dags_folder,
        "conn.py",
        HEADER
        + """
host = Connection.get("source").host.replace(".", "_")
with DAG(f"from_{host}", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")
""",
    )

    run()

    assert errors() == {}
    assert DagModel.objects.filter(dag_id="from_api_example").exists()


def test_a_missing_variable_without_default_is_an_import_error_naming_the_key(dags_folder):
    path = write(
        dags_folder,
        "needs_var.py",
        HEADER
        + """
limit = Variable.get("not_configured")
with DAG("needs_var", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")
""",
    )

    run()

    message = errors()[str(path)]
    assert "VARIABLE_NOT_FOUND" in message and "not_configured" in message


def test_a_missing_connection_is_an_import_error_naming_it(dags_folder):
    path = write(
        dags_folder,
        "needs_conn.py",
        HEADER + '\nConnection.get("nowhere")\n',
    )

    run()

    assert errors()[str(path)] == "AirflowNotFoundException: The conn_id `nowhere` isn't defined"


def test_a_top_level_variable_set_is_stored_and_audited_naming_the_file(dags_folder):
    path = write(
        dags_folder,
        "sets.py",
        HEADER
        + """
Variable.set("parsed_by", "processor")
with DAG("sets", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="only")
""",
    )

    run()

    assert errors() == {}
    assert Variable.objects.get(key="parsed_by").val == "processor"
    event = AuditEvent.objects.get(event="variable_create")
    assert event.owner == f"dag_processor:{path}"
