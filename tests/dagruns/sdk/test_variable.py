"""`Variable.get/set/delete` from task code, answered by the process's runtime."""

from __future__ import annotations

import pytest

from dagruns.sdk import AirflowRuntimeError, Variable
from dagruns.sdk.exceptions import ErrorType, VariableNotFound
from dagruns.sdk.runtime import NoTaskRuntime
from dagruns.sdk.variable import VariableAccessor


def test_get_returns_the_text(task_runtime):
    task_runtime.variables["region"] = "eu"
    assert Variable.get("region") == "eu"


def test_get_with_deserialize_json_parses_the_value(task_runtime):
    task_runtime.variables["limits"] = '{"rows": 10, "tags": ["a"]}'
    assert Variable.get("limits", deserialize_json=True) == {"rows": 10, "tags": ["a"]}


def test_get_of_a_missing_key_without_default_raises_airflows_error_naming_the_key(
    task_runtime,
):
    with pytest.raises(AirflowRuntimeError) as caught:
        Variable.get("nope")
    error = caught.value
    assert error.error.error == ErrorType.VARIABLE_NOT_FOUND
    assert "Variable nope not found" in str(error)
    # Airflow 2 DAGs catch KeyError: that works too.
    assert isinstance(error, KeyError)
    assert str(error) == "VARIABLE_NOT_FOUND: {'message': 'Variable nope not found'}"


def test_get_of_a_missing_key_gives_the_default_even_none(task_runtime):
    assert Variable.get("nope", default="fallback") == "fallback"
    assert Variable.get("nope", default=None) is None
    assert Variable.get("nope", default_var="airflow 2 spelling") == "airflow 2 spelling"


def test_get_refuses_both_default_spellings(task_runtime):
    with pytest.raises(TypeError, match="default or default_var"):
        Variable.get("nope", default=1, default_var=2)


def test_get_of_a_value_that_is_not_json_with_deserialize_json_names_the_variable(task_runtime):
    task_runtime.variables["broken"] = "{not json"
    with pytest.raises(Exception, match="Variable 'broken' is not valid JSON"):
        Variable.get("broken", deserialize_json=True)


def test_set_stores_text_and_description(task_runtime):
    Variable.set("region", "eu", description="where we sell")
    assert task_runtime.variables["region"] == "eu"
    assert task_runtime.descriptions["region"] == "where we sell"


def test_set_with_serialize_json_stores_json_text_that_reads_back(task_runtime):
    Variable.set("limits", {"rows": 10}, serialize_json=True)
    assert Variable.get("limits", deserialize_json=True) == {"rows": 10}


def test_set_of_a_non_string_without_serialize_json_is_refused_naming_the_key(task_runtime):
    with pytest.raises(TypeError, match=r"Variable.set\('count'\).*serialize_json=True"):
        Variable.set("count", 5)
    assert "count" not in task_runtime.variables


def test_set_of_a_value_that_is_not_json_serializable_is_refused(task_runtime):
    with pytest.raises(TypeError, match=r"Variable.set\('when'\).*not JSON-serializable"):
        Variable.set("when", object(), serialize_json=True)


def test_delete_removes_the_key(task_runtime):
    task_runtime.variables["scratch"] = "x"
    Variable.delete("scratch")
    with pytest.raises(VariableNotFound):
        Variable.get("scratch")


@pytest.mark.parametrize("key", ["", None, 3])
def test_a_key_that_is_not_a_non_empty_string_is_refused(task_runtime, key):
    with pytest.raises(ValueError, match="non-empty string"):
        Variable.get(key)


def test_outside_a_task_every_call_names_itself():
    with pytest.raises(NoTaskRuntime, match=r"Variable.get\('region'\) needs a running task"):
        Variable.get("region", default="eu")
    with pytest.raises(NoTaskRuntime, match=r"Variable.set\('region'\)"):
        Variable.set("region", "eu")
    with pytest.raises(NoTaskRuntime, match=r"Variable.delete\('region'\)"):
        Variable.delete("region")


def test_the_context_accessor_is_airflows_dict_with_attribute_access_too(task_runtime):
    task_runtime.variables.update({"region": "eu", "limits": '{"rows": 1}'})
    var = VariableAccessor(task_runtime)

    assert var["value"]["region"] == "eu"
    assert var["json"]["limits"] == {"rows": 1}
    assert var.value.region == "eu"
    assert var.json.get("missing", "d") == "d"
    with pytest.raises(KeyError):
        var["value"]["missing"]


def test_setdefault_returns_the_existing_value_or_stores_the_default(task_runtime):
    task_runtime.variables["region"] = "eu"
    assert Variable.setdefault("region", "us") == "eu"
    assert Variable.setdefault("limits", {"rows": 1}, deserialize_json=True) == {"rows": 1}
    assert Variable.get("limits", deserialize_json=True) == {"rows": 1}
    with pytest.raises(ValueError, match="Default Value must be set"):
        Variable.setdefault("other", None)
