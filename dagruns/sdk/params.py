"""Params: typed, JSON-schema-validated inputs of a DAG run (Airflow's ``Param``).

``validate_params`` works on the serialized form only, so the API server can check a
trigger request's ``conf`` without importing the DAG file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from typing import Any

import jsonschema
from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from .exceptions import AirflowException, ParamValidationError
from .resolve import ResolveMixin


class ArgNotSet:
    """Type of ``NOTSET``: marks "no value given", since None is a legitimate value."""

    _instance: ArgNotSet | None = None

    def __new__(cls) -> ArgNotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False

    def __deepcopy__(self, memo: dict) -> ArgNotSet:
        return self


NOTSET = ArgNotSet()


class Param:
    """A parameter with an optional default, a description and a JSON schema.

    ``Param(5, type="integer", minimum=0)``: keyword arguments form the JSON schema
    (or pass ``schema={...}``). The default is checked only when resolved or when the DAG
    is validated, like in Airflow, so that the error can name the param.
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None, **kwargs: Any):
        if default is not NOTSET:
            _check_json(default)
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = dict(kwargs.pop("schema") if "schema" in kwargs else kwargs)
        self.name: str | None = None
        try:
            jsonschema.validators.validator_for(self.schema).check_schema(self.schema)
        except SchemaError as err:
            raise ParamValidationError(f"Invalid JSON schema for Param: {err.message}") from None

    @property
    def has_value(self) -> bool:
        return self.value is not NOTSET and self.value is not None

    def resolve(self, value: Any = NOTSET, suppress_exception: bool = False) -> Any:
        """Return ``value`` (or the default) after validating it against the schema."""
        final = self.value if value is NOTSET else value
        try:
            if value is not NOTSET:
                _check_json(value)
            if final is NOTSET:
                raise ParamValidationError(NO_VALUE)
            problem = schema_problem(final, self.schema)
            if problem:
                raise ParamValidationError(problem)
        except ParamValidationError as err:
            if suppress_exception:
                return None
            if self.name:
                raise ParamValidationError(
                    f"Invalid input for param {self.name!r}: {err}"
                ) from None
            raise
        return final

    def copy_with_value(self, value: Any) -> Param:
        clone = copy.copy(self)
        clone.value = value
        return clone

    def serialize(self) -> dict[str, Any]:
        has_default = self.value is not NOTSET
        return {
            "default": self.value if has_default else None,
            "has_default": has_default,
            "description": self.description,
            "schema": self.schema,
        }

    @classmethod
    def deserialize(cls, data: Mapping[str, Any]) -> Param:
        default = data.get("default") if data.get("has_default", True) else NOTSET
        return cls(default, data.get("description"), schema=dict(data.get("schema") or {}))

    def __repr__(self) -> str:
        return f"Param({self.value!r}, description={self.description!r}, schema={self.schema!r})"


class ParamsDict(MutableMapping[str, Any]):
    """A mapping of names to Params; reading an item returns the validated value.

    ``get_param(name)`` returns the Param itself; ``items()``/``values()`` yield Params
    (as in Airflow, so merging two ParamsDicts keeps schemas).
    """

    def __init__(self, params: Mapping[str, Any] | None = None, suppress_exception: bool = False):
        self._params: dict[str, Param] = {}
        self.suppress_exception = suppress_exception
        for key, value in (params or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, Param):
            param = value if value.name in (None, key) else copy.copy(value)
        elif key in self._params:
            # A plain value for a declared param overrides its default, keeping the schema.
            param = self._params[key].copy_with_value(value)
        else:
            param = Param(value)
        param.name = key
        self._params[key] = param

    def __getitem__(self, key: str) -> Any:
        return self._params[key].resolve(suppress_exception=self.suppress_exception)

    def __delitem__(self, key: str) -> None:
        del self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, key: object) -> bool:
        return key in self._params

    def __repr__(self) -> str:
        return f"ParamsDict({self._params!r})"

    def get_param(self, key: str) -> Param:
        return self._params[key]

    def items(self) -> ItemsView[str, Param]:  # type: ignore[override]
        return ItemsView(self._params)

    def values(self) -> ValuesView[Param]:  # type: ignore[override]
        return ValuesView(self._params)

    def update(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 1 and not kwargs and isinstance(args[0], ParamsDict):
            for key, param in args[0].items():
                self[key] = param
            return
        super().update(*args, **kwargs)

    def copy(self) -> ParamsDict:
        if not self._params:
            return type(self)()  # the common case: every operator copies its DAG's params
        return copy.deepcopy(self)

    def dump(self) -> dict[str, Any]:
        """Current values without validation errors (an invalid value reads as None)."""
        return {key: param.resolve(suppress_exception=True) for key, param in self._params.items()}

    def validate(self) -> dict[str, Any]:
        """Resolve every param; raise one ParamValidationError listing every bad one."""
        return validate_params(self.serialize(), {})

    def serialize(self) -> dict[str, dict[str, Any]]:
        return {key: param.serialize() for key, param in self._params.items()}

    @classmethod
    def deserialize(cls, data: Mapping[str, Mapping[str, Any]]) -> ParamsDict:
        return cls({key: Param.deserialize(value) for key, value in data.items()})


class DagParam(ResolveMixin):
    """What a ``@dag`` function receives for each of its arguments.

    Passed on to tasks, it becomes the run's value of the DAG param of that name.
    """

    def __init__(self, name: str, default: Any = NOTSET):
        self.name = name
        self.default = default

    def resolve(self, context: Mapping[str, Any]) -> Any:
        params = context.get("params") or {}
        if self.name in params:
            return params[self.name]
        conf = getattr(context.get("dag_run"), "conf", None) or {}
        if self.name in conf:
            return conf[self.name]
        if self.default is not NOTSET:
            return self.default
        raise AirflowException(f"No value could be resolved for parameter {self.name!r}")

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"


NO_VALUE = "No value passed and Param has no default value"


def jsonschema_wording(err: ValidationError) -> str:
    """jsonschema's own message (Airflow's wording in task logs and API errors)."""
    where = "/".join(str(part) for part in err.absolute_path)
    return f"{err.message} (at {where})" if where else err.message


def schema_problem(
    value: Any,
    schema: Mapping[str, Any],
    explain: Callable[[ValidationError], str] = jsonschema_wording,
) -> str | None:
    """The first reason ``value`` violates ``schema`` (as ``explain`` words it), or None
    when it conforms."""
    try:
        jsonschema.validate(value, schema, format_checker=FormatChecker())
    except ValidationError as err:
        return explain(err)
    except SchemaError as err:
        return f"invalid JSON schema: {err.message}"
    return None


def validate_params(
    serialized_params: Mapping[str, Mapping[str, Any]],
    conf: Mapping[str, Any] | None,
    explain: Callable[[ValidationError], str] = jsonschema_wording,
) -> dict[str, Any]:
    """Merge a trigger's ``conf`` over the declared params' defaults and validate the result.

    ``serialized_params`` is the ``"params"`` entry of a serialized DAG. Keys of ``conf``
    that are not declared params are passed through unchecked (Airflow accepts them too).
    Raises one ParamValidationError whose ``errors`` maps every bad name to its problem,
    worded by ``explain`` (jsonschema's words by default; the trigger form uses its own).
    """
    conf = dict(conf or {})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in serialized_params.items():
        if name in conf:
            value = conf[name]
        elif spec.get("has_default", True):
            value = spec.get("default")
        else:
            errors[name] = NO_VALUE
            continue
        problem = _json_problem(value) or schema_problem(value, spec.get("schema") or {}, explain)
        if problem:
            errors[name] = problem
        else:
            values[name] = value
    if errors:
        listing = "; ".join(f"{name!r}: {problem}" for name, problem in errors.items())
        raise ParamValidationError(f"Invalid input for params: {listing}", errors)
    for name, value in conf.items():
        values.setdefault(name, value)
    return values


def _json_problem(value: Any) -> str | None:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return f"the value {value!r} is not JSON-serializable"
    return None


def _check_json(value: Any) -> None:
    problem = _json_problem(value)
    if problem:
        raise ParamValidationError(f"All provided parameters must be json-serializable: {problem}")
