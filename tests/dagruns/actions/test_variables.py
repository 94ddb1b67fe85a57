"""Variable actions: validate, mutate, audit (never the value)."""

from __future__ import annotations

import pytest

from dagruns.actions import variables as v
from dagruns.actions.audit import Actor
from dagruns.models import AuditEvent, Variable

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_create_stores_text_and_json_as_text():
    v.do_create_variable("a", "plain", ACTOR)
    v.do_create_variable("b", {"x": 1}, ACTOR)
    assert Variable.objects.get(key="a").val == "plain"
    assert Variable.objects.get(key="b").val == '{"x": 1}'


def test_create_refuses_a_taken_key_and_bad_keys():
    v.do_create_variable("a", "1", ACTOR)
    with pytest.raises(v.VariableExists):
        v.do_create_variable("a", "2", ACTOR)
    for bad in ("", "   ", "k" * 251, "nul\x00"):
        with pytest.raises(v.VariableError):
            v.do_create_variable(bad, "x", ACTOR)


def test_set_creates_or_replaces_and_keeps_the_description():
    v.do_set_variable("a", "1", ACTOR, description="kept")
    v.do_set_variable("a", "2", ACTOR)
    var = Variable.objects.get(key="a")
    assert var.val == "2" and var.description == "kept"
    assert list(AuditEvent.objects.order_by("id").values_list("event", flat=True)) == [
        "variable_create",
        "variable_update",
    ]


def test_update_and_delete_an_unknown_key_raise_not_found():
    with pytest.raises(v.VariableNotFound):
        v.do_update_variable("nope", ACTOR, value="x")
    with pytest.raises(v.VariableNotFound):
        v.do_delete_variable("nope", ACTOR)


def test_the_audit_log_never_holds_the_value():
    v.do_create_variable("password", "hunter2", ACTOR)
    assert "hunter2" not in str(AuditEvent.objects.get().extra)


def test_import_in_both_export_shapes_with_each_policy():
    v.do_create_variable("a", "old", ACTOR)
    data = {"a": "new", "b": {"value": [1], "description": "list"}, "c": 3}
    with pytest.raises(v.VariableError):
        v.do_import_variables(data, ACTOR, on_existing="fail")
    assert not Variable.objects.filter(key="b").exists()  # all or nothing
    assert v.do_import_variables(data, ACTOR, on_existing="skip")["skipped"] == ["a"]
    assert Variable.objects.get(key="a").val == "old"
    assert Variable.objects.get(key="b").description == "list"
    v.do_import_variables(data, ACTOR)
    assert Variable.objects.get(key="a").val == "new"


def test_export_decodes_json_values():
    v.do_create_variable("n", 3, ACTOR)
    v.do_create_variable("s", "text", ACTOR)
    assert v.export_variables() == {"n": 3, "s": "text"}
