"""Trigger kwargs, `next_kwargs` and event payloads as JSON, and back.

They cross three processes (the task, the triggerer's child, the resumed task) and the
database, yet a DAG author's `moment=` is a datetime and a resumed `execute_complete` expects
`event` to be one again (DateTimeTrigger's payload is its moment), as Airflow's serde gives back.
Plain JSON values pass as they are; datetimes, dates, timedeltas and tuples travel tagged
(`{"__type": ..., "__var": ...}`); a dict that itself has a `"__type"` key is wrapped so it
cannot be mistaken for a tag. Anything else is refused, naming where it was found.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

TYPE, VALUE = "__type", "__var"


class NotSerializable(TypeError):
    """A value a trigger or a deferral cannot carry between processes."""


def encode(value: Any, where: str = "value") -> Any:
    """`value` as JSON-safe data; NotSerializable names `where` and the offending type."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=UTC)
        return {TYPE: "datetime", VALUE: value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {TYPE: "date", VALUE: value.isoformat()}
    if isinstance(value, timedelta):
        return {TYPE: "timedelta", VALUE: value.total_seconds()}
    if isinstance(value, tuple):
        return {TYPE: "tuple", VALUE: [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotSerializable(f"{where} has a key {key!r} that is not a string")
            encoded[key] = encode(item, f"{where}[{key!r}]")
        return {TYPE: "dict", VALUE: encoded} if TYPE in encoded else encoded
    raise NotSerializable(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot be "
        "passed to or from a trigger (use JSON values, datetimes, dates, timedeltas or tuples)"
    )


def decode(value: Any) -> Any:
    """The inverse of `encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TYPE)
    if kind is None:
        return {key: decode(item) for key, item in value.items()}
    raw: Any = value[VALUE]
    if kind == "datetime":
        return datetime.fromisoformat(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "timedelta":
        return timedelta(seconds=raw)
    if kind == "tuple":
        return tuple(decode(v) for v in raw)
    if kind == "dict":
        return {key: decode(item) for key, item in raw.items()}
    raise NotSerializable(f"unknown tagged value type {kind!r}")


def encode_kwargs(kwargs: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """A kwargs dict encoded value by value (its top level stays a plain dict, so the
    triggerer can add `event` to a stored `next_kwargs` without decoding it)."""
    return {key: encode(item, f"{where}[{key!r}]") for key, item in (kwargs or {}).items()}


def decode_kwargs(kwargs: dict[str, Any] | None) -> dict[str, Any]:
    return {key: decode(item) for key, item in (kwargs or {}).items()}
