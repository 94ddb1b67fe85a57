"""The protocol of values only known at run time (XCom results, DAG params)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any


class ResolveMixin(ABC):
    """A placeholder that template rendering replaces by ``resolve(context)``."""

    @abstractmethod
    def resolve(self, context: Mapping[str, Any]) -> Any:
        """Return the run-time value, reading what is needed from the task context."""


def resolve_all(value: Any, context: Mapping[str, Any]) -> Any:
    """Replace every placeholder inside lists, tuples, sets and dicts by its value."""
    if isinstance(value, ResolveMixin):
        return value.resolve(context)
    if isinstance(value, list):
        return [resolve_all(item, context) for item in value]
    if type(value) is tuple:
        return tuple(resolve_all(item, context) for item in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # named tuple
        return type(value)(*(resolve_all(item, context) for item in value))
    if isinstance(value, dict):
        return {key: resolve_all(item, context) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return type(value)(resolve_all(item, context) for item in value)
    return value


class LiteralValue(ResolveMixin):
    """Airflow's `literal(value)`: a template field's value kept as it is, never rendered as a
    Jinja template (a bash script containing `{{`, say)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, context: Mapping[str, Any]) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"literal({self.value!r})"


def literal(value: Any) -> LiteralValue:
    """Wrap a value so template rendering leaves it as it is (Airflow's `airflow.sdk.literal`)."""
    return LiteralValue(value)
