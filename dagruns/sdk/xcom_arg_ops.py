"""``XComArg.map``, ``.zip`` and ``.concat``: results transformed lazily at run time.

Each resolves to a read-only sequence over its source results (lists, dicts as their
``(key, value)`` items, or a mapped task's LazyXComSequence) without copying them, so a
mapped instance that needs item k computes only item k. The scheduler computes the same
lengths from the serialized form (scheduler/scheduling/expansion.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .exceptions import DagDefinitionError
from .params import NOTSET, ArgNotSet
from .xcom_arg import XComArg

if TYPE_CHECKING:
    from .baseoperator import BaseOperator


def as_sequence(value: Any, what: str) -> Sequence[Any]:
    """A mappable value as a sequence: lists and tuples as they are, a dict as its items."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    raise ValueError(f"{what}: cannot map over a value of type {type(value).__name__!r}")


def _callable_name(f: Any) -> str:
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"


class _DerivedXComArg(XComArg):
    """Base of the transformed arguments: their upstream edges are their sources'."""

    sources: list[XComArg]

    def __init__(self, sources: list[XComArg]) -> None:
        for source in sources:
            if not isinstance(source, XComArg):
                raise DagDefinitionError(
                    f"XComArg.zip()/concat() take XComArgs (task results), got {source!r}"
                )
        self.sources = sources
        super().__init__(sources[0].operator, sources[0].key)

    def __getitem__(self, key: str) -> XComArg:
        raise DagDefinitionError(f"{self!r} has no entries to index with {key!r}")

    def __str__(self) -> str:
        raise DagDefinitionError(f"{self!r} cannot be used inside a template string")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @property
    def roots(self) -> list[BaseOperator]:
        return [ref for source in self.sources for ref in source.roots]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [ref for source in self.sources for ref in source.leaves]

    def iter_references(self) -> Iterator[tuple[BaseOperator, str]]:
        for source in self.sources:
            yield from source.iter_references()

    def map(self, f: Any) -> XComArg:
        return MapXComArg(self, [f])


class MapXComArg(_DerivedXComArg):
    """``arg.map(f)``: item k is ``f(arg[k])`` (several ``.map`` calls chain)."""

    def __init__(self, arg: XComArg, callables: list[Callable[[Any], Any]]) -> None:
        for f in callables:
            if not callable(f):
                raise DagDefinitionError(f"XComArg.map() needs a callable, got {f!r}")
            if isinstance(f, XComArg) or hasattr(f, "operator_class"):
                raise DagDefinitionError("XComArg.map() cannot take a task; pass a function")
        super().__init__([arg])
        self.arg = arg
        self.callables = callables

    def __repr__(self) -> str:
        return f"{self.arg!r}.map([{len(self.callables)} function(s)])"

    def map(self, f: Any) -> XComArg:
        return MapXComArg(self.arg, [*self.callables, f])

    def resolve(self, context: Mapping[str, Any]) -> Any:
        return _MapResult(as_sequence(self.arg.resolve(context), repr(self.arg)), self.callables)

    def serialize(self) -> dict[str, Any]:
        return {
            "__xcomarg": {
                "type": "map",
                "arg": self.arg.serialize(),
                "callables": [_callable_name(f) for f in self.callables],
            }
        }


class ZipXComArg(_DerivedXComArg):
    """``a.zip(b, c, fillvalue=...)``: item k is ``(a[k], b[k], c[k])``."""

    def __init__(self, args: list[XComArg], *, fillvalue: Any = NOTSET) -> None:
        super().__init__(args)
        self.fillvalue = fillvalue

    def __repr__(self) -> str:
        return f"zip({', '.join(map(repr, self.sources))})"

    def resolve(self, context: Mapping[str, Any]) -> Any:
        values = [as_sequence(arg.resolve(context), repr(arg)) for arg in self.sources]
        return _ZipResult(values, self.fillvalue)

    def serialize(self) -> dict[str, Any]:
        has_fill = not isinstance(self.fillvalue, ArgNotSet)
        return {
            "__xcomarg": {
                "type": "zip",
                "args": [arg.serialize() for arg in self.sources],
                "has_fillvalue": has_fill,
                "fillvalue": self.fillvalue if has_fill else None,
            }
        }


class ConcatXComArg(_DerivedXComArg):
    """``a.concat(b, c)``: the items of a, then of b, then of c."""

    def __repr__(self) -> str:
        return f"concat({', '.join(map(repr, self.sources))})"

    def resolve(self, context: Mapping[str, Any]) -> Any:
        return _ConcatResult([as_sequence(arg.resolve(context), repr(arg)) for arg in self.sources])

    def serialize(self) -> dict[str, Any]:
        return {"__xcomarg": {"type": "concat", "args": [arg.serialize() for arg in self.sources]}}


class _LazyResult(Sequence[Any]):
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._item(index)

    def _item(self, index: int) -> Any:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self._item(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class _MapResult(_LazyResult):
    def __init__(self, value: Sequence[Any], callables: list[Callable[[Any], Any]]) -> None:
        self.value = value
        self.callables = callables

    def __len__(self) -> int:
        return len(self.value)

    def _item(self, index: int) -> Any:
        item = self.value[index]
        for f in self.callables:
            item = f(item)
        return item


class _ZipResult(_LazyResult):
    def __init__(self, values: list[Sequence[Any]], fillvalue: Any) -> None:
        self.values = values
        self.fillvalue = fillvalue

    def __len__(self) -> int:
        lengths = [len(value) for value in self.values]
        if isinstance(self.fillvalue, ArgNotSet):
            return min(lengths, default=0)
        return max(lengths, default=0)

    def _item(self, index: int) -> Any:
        return tuple(
            value[index] if index < len(value) else self.fillvalue for value in self.values
        )


class _ConcatResult(_LazyResult):
    def __init__(self, values: list[Sequence[Any]]) -> None:
        self.values = values

    def __len__(self) -> int:
        return sum(len(value) for value in self.values)

    def _item(self, index: int) -> Any:
        for value in self.values:
            if index < len(value):
                return value[index]
            index -= len(value)
        raise IndexError("concat index out of range")
