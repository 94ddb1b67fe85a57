"""`Variable`: Airflow's key/value store, read and written from task code (and read at
DAG-parse time) through the process's runtime (dagruns/sdk/runtime.py).

    from dagruns.sdk import Variable          # or: from airflow.sdk import Variable
    Variable.get("region", default="eu")
    Variable.get("limits", deserialize_json=True)
    Variable.set("last_run", "2024-01-01", description="set by the load task")
    Variable.delete("scratch")

Values are stored as text; `serialize_json=True` stores any JSON value as its JSON text and
`deserialize_json=True` parses it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import runtime
from .exceptions import AirflowException, VariableNotFound

NOTSET: Any = object()


def _what(call: str, key: Any) -> str:
    return f"Variable.{call}({key!r})"


def _check_key(call: str, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{_what(call, key)}: the key must be a non-empty string")
    return key


def read_variable(source: runtime.TaskRuntime, key: str, deserialize_json: bool) -> Any:
    """The variable's value from `source` (parsed as JSON when asked); VariableNotFound."""
    text = source.get_variable(key)
    if not deserialize_json:
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AirflowException(
            f"Variable {key!r} is not valid JSON (deserialize_json=True): {exc}"
        ) from None


@dataclass
class Variable:
    """A variable (Airflow's `airflow.sdk.Variable`): the class methods do the work."""

    key: str
    value: Any | None = None
    description: str | None = None

    @classmethod
    def get(
        cls,
        key: str,
        default: Any = NOTSET,
        deserialize_json: bool = False,
        *,
        default_var: Any = NOTSET,
    ) -> Any:
        """The value of `key`; `default` when it does not exist (without a default:
        VariableNotFound, Airflow's AirflowRuntimeError VARIABLE_NOT_FOUND and a KeyError).
        `default_var` is Airflow 2's name for `default`."""
        _check_key("get", key)
        if default is not NOTSET and default_var is not NOTSET:
            raise TypeError(f"{_what('get', key)}: pass default or default_var, not both")
        if default is NOTSET:
            default = default_var
        source = runtime.current(_what("get", key))
        try:
            return read_variable(source, key, deserialize_json)
        except VariableNotFound:
            if default is NOTSET:
                raise
            return default

    @classmethod
    def set(
        cls,
        key: str,
        value: Any,
        description: str | None = None,
        serialize_json: bool = False,
    ) -> None:
        """Create or replace `key` (through the server, audited). A value that is not a
        string needs serialize_json=True. The description is kept unless one is given."""
        _check_key("set", key)
        if serialize_json:
            try:
                text = json.dumps(value, indent=2, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{_what('set', key)}: the value is not JSON-serializable: {exc}"
                ) from None
        elif isinstance(value, str):
            text = value
        else:
            raise TypeError(
                f"{_what('set', key)}: the value must be a string, got "
                f"{type(value).__name__}; pass serialize_json=True to store it as JSON"
            )
        if description is not None and not isinstance(description, str):
            raise TypeError(f"{_what('set', key)}: the description must be a string")
        runtime.current(_what("set", key)).set_variable(key, text, description)

    @classmethod
    def setdefault(
        cls,
        key: str,
        default: Any,
        description: str | None = None,
        deserialize_json: bool = False,
    ) -> Any:
        """Airflow 2's `Variable.setdefault`: the value of `key`, or `default` stored (as JSON
        with deserialize_json) and returned when `key` does not exist."""
        _check_key("setdefault", key)
        if default is None:
            raise ValueError(f"{_what('setdefault', key)}: Default Value must be set")
        try:
            return cls.get(key, deserialize_json=deserialize_json)
        except VariableNotFound:
            cls.set(key, default, description=description, serialize_json=deserialize_json)
            return default

    @classmethod
    def delete(cls, key: str) -> None:
        """Delete `key` (through the server, audited); deleting a missing key does nothing,
        as in Airflow."""
        _check_key("delete", key)
        runtime.current(_what("delete", key)).delete_variable(key)


class VariableView:
    """`context["var"]["value"]` / `["json"]` (and `{{ var.value.key }}` in templates):
    attribute or item access raises VariableNotFound, `.get(key, default)` gives the
    default."""

    def __init__(self, source: runtime.TaskRuntime, deserialize_json: bool) -> None:
        self._source = source
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return read_variable(self._source, key, self._json)

    def __getitem__(self, key: str) -> Any:
        return read_variable(self._source, key, self._json)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return read_variable(self._source, key, self._json)
        except VariableNotFound:
            return default

    def __repr__(self) -> str:
        return "<VariableAccessor (json)>" if self._json else "<VariableAccessor (value)>"


class VariableAccessor(dict):
    """`context["var"]`: Airflow 3's dict `{"value": ..., "json": ...}`, which also answers
    `var.value` / `var.json` as attributes."""

    def __init__(self, source: runtime.TaskRuntime) -> None:
        super().__init__(
            value=VariableView(source, deserialize_json=False),
            json=VariableView(source, deserialize_json=True),
        )

    @property
    def value(self) -> VariableView:
        return self["value"]

    @property
    def json(self) -> VariableView:
        return self["json"]
