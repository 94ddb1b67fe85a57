import pytest

from dagruns.sdk import Param, ParamsDict, ParamValidationError, validate_params
from dagruns.sdk.params import NOTSET, DagParam


def test_keyword_arguments_form_the_json_schema():
    param = Param(5, description="How many", type="integer", minimum=1)
    assert param.value == 5
    assert param.description == "How many"
    assert param.schema == {"type": "integer", "minimum": 1}


def test_resolve_returns_a_valid_value():
    assert Param(5, type="integer").resolve() == 5
    assert Param(5, type="integer").resolve(7) == 7


def test_resolve_raises_naming_the_param_and_the_problem():
    params = ParamsDict({"count": Param(5, type="integer", minimum=1)})
    with pytest.raises(ParamValidationError, match=r"'count'.*0 is less than the minimum of 1"):
        params.get_param("count").resolve(0)


def test_resolve_without_value_or_default_is_an_error():
    with pytest.raises(ParamValidationError, match="no default"):
        Param(type="string").resolve()


def test_formats_are_checked():
    with pytest.raises(ParamValidationError, match="date"):
        Param("yesterday", type="string", format="date").resolve()


def test_a_non_json_default_is_rejected_at_once():
    with pytest.raises(ParamValidationError, match="json-serializable"):
        Param(object())


def test_an_invalid_schema_is_rejected_at_once():
    with pytest.raises(ParamValidationError, match="Invalid JSON schema"):
        Param(1, type="integr")


def test_params_dict_wraps_plain_values_and_reads_resolved_values():
    params = ParamsDict({"a": 1, "b": Param("x", type="string")})
    assert params["a"] == 1
    assert params["b"] == "x"
    assert isinstance(params.get_param("a"), Param)
    assert [type(value) for value in params.values()] == [Param, Param]


def test_setting_a_plain_value_on_a_declared_param_keeps_its_schema():
    params = ParamsDict({"n": Param(1, type="integer")})
    params["n"] = 3
    assert params["n"] == 3
    assert params.get_param("n").schema == {"type": "integer"}


def test_params_dict_validate_lists_every_bad_param():
    params = ParamsDict({"a": Param("x", type="integer"), "b": Param(type="string"), "c": 1})
    with pytest.raises(ParamValidationError) as error:
        params.validate()
    assert set(error.value.errors) == {"a", "b"}


def test_dump_never_raises():
    assert ParamsDict({"a": Param("x", type="integer"), "b": 2}).dump() == {"a": None, "b": 2}


def test_params_dict_copy_is_independent():
    params = ParamsDict({"a": 1})
    clone = params.copy()
    clone["a"] = 2
    assert params["a"] == 1


SERIALIZED = {
    "count": {
        "default": 5,
        "has_default": True,
        "description": None,
        "schema": {"type": "integer", "minimum": 1},
    },
    "name": {
        "default": None,
        "has_default": False,
        "description": "who",
        "schema": {"type": "string"},
    },
    "flag": {
        "default": False,
        "has_default": True,
        "description": None,
        "schema": {"type": "boolean"},
    },
}


def test_validate_params_merges_conf_over_defaults():
    assert validate_params(SERIALIZED, {"name": "ada", "count": 2}) == {
        "count": 2,
        "name": "ada",
        "flag": False,
    }


def test_validate_params_passes_undeclared_conf_keys_through():
    assert validate_params(SERIALIZED, {"name": "ada", "extra": [1]})["extra"] == [1]


def test_validate_params_raises_listing_every_bad_field():
    with pytest.raises(ParamValidationError) as error:
        validate_params(SERIALIZED, {"count": 0, "flag": "yes"})
    assert set(error.value.errors) == {"count", "name", "flag"}
    message = str(error.value)
    assert "'count'" in message and "'name'" in message and "'flag'" in message
    assert "No value passed" in error.value.errors["name"]


def test_validate_params_accepts_no_conf():
    assert validate_params({"a": {"default": 1, "schema": {}}}, None) == {"a": 1}


def test_validate_params_rejects_non_json_conf_values():
    with pytest.raises(ParamValidationError, match="JSON"):
        validate_params({"a": {"default": 1, "schema": {}}}, {"a": {1, 2}})


def test_serialize_and_deserialize_keep_a_missing_default_missing():
    param = Param(type="string", description="d")
    data = param.serialize()
    assert data == {
        "default": None,
        "has_default": False,
        "description": "d",
        "schema": {"type": "string"},
    }
    assert Param.deserialize(data).value is NOTSET


def test_dag_param_resolves_from_params_then_conf_then_default():
    class Run:
        conf = {"x": "from conf"}

    assert DagParam("x", 1).resolve({"params": {"x": "from params"}}) == "from params"
    assert DagParam("x", 1).resolve({"params": {}, "dag_run": Run()}) == "from conf"
    assert DagParam("y", 1).resolve({"params": {}}) == 1
