"""`manage.py dags …` in Airflow's shape."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dagruns.models import AuditEvent, DagImportError, DagModel, DagTag

pytestmark = pytest.mark.django_db


def dags(*argv: str) -> str:
    out = StringIO()
    call_command("dags", *argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def two_dags():
    a = DagModel.objects.create(dag_id="alpha", fileloc="/dags/a.py", owners="data", is_paused=True)
    DagTag.objects.create(dag=a, name="finance")
    DagModel.objects.create(dag_id="beta", fileloc="/dags/b.py", owners="ops", is_paused=False)
    DagModel.objects.create(dag_id="gone", fileloc="/dags/g.py", is_active=False)


def test_list_json_uses_airflow_field_names(two_dags):
    rows = json.loads(dags("list", "-o", "json"))
    assert rows == [
        {
            "dag_id": "alpha",
            "fileloc": "/dags/a.py",
            "owners": "data",
            "is_paused": True,
            "tags": ["finance"],
        },
        {
            "dag_id": "beta",
            "fileloc": "/dags/b.py",
            "owners": "ops",
            "is_paused": False,
            "tags": [],
        },
    ]


def test_list_table_shows_a_header_and_a_row_per_dag(two_dags):
    text = dags("list", "-o", "table")
    assert text.splitlines()[0].split(" | ")[0].strip() == "dag_id"
    assert "alpha" in text and "beta" in text and "gone" not in text


def test_list_import_errors_json_has_filename_and_stack_trace():
    DagImportError.objects.create(
        filename="/dags/bad.py",
        line_number=3,
        message="ValueError: x",
        stack_trace="Traceback...\nValueError: x",
        timestamp=timezone.now(),
    )
    rows = json.loads(dags("list-import-errors", "-o", "json"))
    assert rows[0]["filename"] == "/dags/bad.py"
    assert rows[0]["stack_trace"].endswith("ValueError: x")
    assert rows[0]["line_number"] == 3


def test_pause_and_unpause_change_the_flag_and_are_audited(two_dags):
    dags("unpause", "alpha")
    assert DagModel.objects.get(dag_id="alpha").is_paused is False
    dags("pause", "alpha")
    assert DagModel.objects.get(dag_id="alpha").is_paused is True
    events = list(AuditEvent.objects.order_by("when").values_list("event", "dag_id"))
    assert events == [("unpaused", "alpha"), ("paused", "alpha")]
    assert AuditEvent.objects.first().owner.startswith("cli:")


def test_pausing_an_unknown_dag_is_a_clear_error():
    with pytest.raises(CommandError, match="DAG 'nope' not found"):
        dags("pause", "nope")


def test_an_unknown_output_format_is_refused():
    with pytest.raises(CommandError):
        dags("list", "-o", "xml")
