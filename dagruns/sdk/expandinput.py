"""What a mapped task (or task group) expands over, and the arguments of map index k.

``expand(x=[1, 2], y=xcomarg)`` is a DictOfListsExpandInput: the instances are the cartesian
product of the arguments, the last one varying fastest (Airflow's order). ``expand_kwargs``
is a ListOfDictsExpandInput: instance k gets the k-th dict. Values are literal lists, dicts
(mapped as their ``(key, value)`` items) or XComArgs; the runner resolves only what index k
needs, the scheduler computes the length from the serialized form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .exceptions import AirflowException, DagDefinitionError
from .resolve import ResolveMixin, resolve_all
from .xcom_arg import XComArg, iter_xcom_args
from .xcom_arg_ops import as_sequence

if TYPE_CHECKING:
    from .baseoperator import BaseOperator


def is_mappable_value(value: Any) -> bool:
    """A value a task may map over: a list/tuple (not a string) or a dict."""
    if isinstance(value, str | bytes):
        return False
    return isinstance(value, Sequence | Mapping)


def _serialize(value: Any) -> Any:
    from .serialization import json_safe  # serialization imports the mapped operator

    return json_safe(value)


class DictOfListsExpandInput:
    """``expand(**kwargs)``: each keyword maps over a list, a dict or an XComArg."""

    kind = "dict-of-lists"

    def __init__(self, value: dict[str, Any], where: str) -> None:
        for name, item in value.items():
            if isinstance(item, XComArg | MappedArgument):
                continue
            if not is_mappable_value(item):
                raise DagDefinitionError(
                    f"{where}: expand() got an unexpected type {type(item).__name__!r} for "
                    f"keyword argument {name!r} (map over a list, a dict or a task's result)"
                )
        # Other sequences (range, a user Sequence) as lists: that is what is stored and
        # what the scheduler counts.
        self.value = {name: _as_list(item) for name, item in value.items()}

    def names(self) -> list[str]:
        return list(self.value)

    def iter_references(self) -> Iterator[tuple[BaseOperator, str]]:
        for item in self.value.values():
            for arg in iter_xcom_args(item):
                yield from arg.iter_references()

    def serialize(self) -> dict[str, Any]:
        return {"type": self.kind, "value": {k: _serialize(v) for k, v in self.value.items()}}

    def literal_length(self) -> int | None:
        """The number of instances when every value is a literal, else None."""
        total = 1
        for item in self.value.values():
            if isinstance(item, XComArg | MappedArgument):
                return None
            total *= len(item)
        return total

    def resolve(self, context: Mapping[str, Any], map_index: int) -> dict[str, Any]:
        """The keyword arguments of instance ``map_index``."""
        sequences = {
            name: as_sequence(_resolve_value(item, context), f"expand() argument {name!r}")
            for name, item in self.value.items()
        }
        lengths = {name: len(seq) for name, seq in sequences.items()}
        chosen: dict[str, Any] = {}
        index = map_index
        for name in reversed(list(self.value)):  # the last argument varies fastest
            length = lengths[name]
            if length < 1:
                raise AirflowException(f"expand() argument {name!r} has no items to map over")
            chosen[name] = sequences[name][index % length]
            index //= length
        if index:
            total = 1
            for length in lengths.values():
                total *= length
            raise AirflowException(
                f"map index {map_index} is out of range: the arguments have {total} combinations"
            )
        return {name: resolve_all(chosen[name], context) for name in self.value}


class ListOfDictsExpandInput:
    """``expand_kwargs(list_of_dicts | xcomarg)``: instance k gets the k-th dict."""

    kind = "list-of-dicts"

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, XComArg | MappedArgument):
            if not isinstance(value, Sequence) or isinstance(value, str | bytes):
                raise DagDefinitionError(
                    f"{where}: expand_kwargs() takes a list of dicts or a task's result, got "
                    f"{type(value).__name__!r}"
                )
            for position, item in enumerate(value):
                if isinstance(item, XComArg):
                    continue
                if not isinstance(item, Mapping):
                    raise DagDefinitionError(
                        f"{where}: expand_kwargs() item {position} is a "
                        f"{type(item).__name__!r}, not a dict"
                    )
            value = list(value)
        self.value = value

    def names(self) -> list[str]:
        """Keyword names known at definition time (literal dicts only)."""
        if isinstance(self.value, XComArg | MappedArgument):
            return []
        return sorted(
            {str(key) for item in self.value if isinstance(item, Mapping) for key in item}
        )

    def iter_references(self) -> Iterator[tuple[BaseOperator, str]]:
        for arg in iter_xcom_args(self.value):
            yield from arg.iter_references()

    def serialize(self) -> dict[str, Any]:
        return {"type": self.kind, "value": _serialize(self.value)}

    def literal_length(self) -> int | None:
        if isinstance(self.value, XComArg | MappedArgument):
            return None
        return len(self.value)

    def resolve(self, context: Mapping[str, Any], map_index: int) -> dict[str, Any]:
        sequence = as_sequence(_resolve_value(self.value, context), "expand_kwargs() argument")
        if not 0 <= map_index < len(sequence):
            raise AirflowException(
                f"map index {map_index} is out of range: expand_kwargs() has {len(sequence)} items"
            )
        item = resolve_all(sequence[map_index], context)
        if not isinstance(item, Mapping):
            raise AirflowException(
                f"expand_kwargs() item {map_index} is a {type(item).__name__!r}, not a dict"
            )
        bad = [key for key in item if not isinstance(key, str)]
        if bad:
            raise AirflowException(f"expand_kwargs() item {map_index} has non-string keys {bad!r}")
        return dict(item)


ExpandInput = DictOfListsExpandInput | ListOfDictsExpandInput


def _as_list(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, list | str | bytes):
        return list(value)
    return value


def _resolve_value(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, ResolveMixin):
        return value.resolve(context)
    return value


class MappedArgument(ResolveMixin):
    """An argument of a mapped task group's function: at run time, the value of the group's
    expansion for the running instance's map index."""

    def __init__(self, group: Any, name: str) -> None:
        self.group = group
        self.name = name

    def __repr__(self) -> str:
        return f"MappedArgument({self.group.group_id!r}, {self.name!r})"

    def resolve(self, context: Mapping[str, Any]) -> Any:
        ti = context.get("ti") or context.get("task_instance")
        map_index = getattr(ti, "map_index", -1)
        if map_index < 0:
            raise AirflowException(
                f"{self!r} can only be resolved in an expanded instance of the task group"
            )
        return self.group.expand_input.resolve(context, map_index)[self.name]

    def serialize(self) -> dict[str, Any]:
        return {"__mapped_argument": {"group_id": self.group.group_id, "name": self.name}}
