"""`manage.py variables …` in Airflow's shape."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import AuditEvent, Variable

pytestmark = pytest.mark.django_db


def variables(*argv: str) -> str:
    out = StringIO()
    call_command("variables", *argv, stdout=out)
    return out.getvalue()


def test_set_get_list_delete():
    assert variables("set", "region", "eu", "--description", "where") == "Variable region created\n"
    assert variables("get", "region") == "eu\n"
    assert json.loads(variables("list", "-o", "json")) == [{"key": "region"}]
    assert variables("delete", "region") == "Variable region deleted\n"
    assert AuditEvent.objects.filter(owner__startswith="cli:").count() == 2


def test_get_a_missing_key_fails_unless_a_default_is_given():
    with pytest.raises(CommandError, match="does not exist"):
        variables("get", "nope")
    assert variables("get", "nope", "-d", "fallback") == "fallback\n"


def test_json_values_are_checked_and_printed_as_json():
    with pytest.raises(CommandError, match="not valid JSON"):
        variables("set", "cfg", "{oops", "-j")
    variables("set", "cfg", '{"a":1}', "-j")
    assert json.loads(variables("get", "cfg", "-j")) == {"a": 1}


def test_export_then_import_round_trips(tmp_path):
    variables("set", "a", "1")
    variables("set", "b", "text")
    path = tmp_path / "vars.json"
    assert "2 variables successfully exported" in variables("export", str(path))
    assert json.loads(path.read_text()) == {"a": 1, "b": "text"}
    Variable.objects.all().delete()
    assert variables("import", str(path)) == "2 of 2 variables successfully updated.\n"
    assert Variable.objects.get(key="b").val == "text"
    out = variables("import", str(path), "--action-on-existing-key", "skip")
    assert "0 of 2" in out and "Skipped existing: a, b" in out


def test_import_of_a_bad_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    with pytest.raises(CommandError, match="JSON object"):
        variables("import", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        variables("import", str(tmp_path / "missing.json"))
