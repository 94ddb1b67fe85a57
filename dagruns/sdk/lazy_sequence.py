"""LazyXComSequence: all results of a mapped task, as a downstream task receives them.

Airflow's reduce step: a task that takes a mapped task's XComArg gets a read-only sequence
ordered by map index; its length and each item are fetched through the task instance (the
Execution API in the runner) only when asked for, a page at a time when iterated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

# Items fetched per request while iterating.
PAGE_SIZE = 100


class LazyXComSequence(Sequence[Any]):
    """The ``key`` XComs of every instance of the mapped task ``task_id`` in this run.

    ``ti`` provides ``xcom_sequence(task_id, key, start, stop) -> (length, values)``.
    Instances that pushed nothing (skipped, failed, or a None result) are not part of it,
    as in Airflow."""

    def __init__(self, ti: Any, task_id: str, key: str) -> None:
        self._ti = ti
        self._task_id = task_id
        self._key = key
        self._length: int | None = None

    def __repr__(self) -> str:
        length = "?" if self._length is None else self._length
        return f"LazyXComSequence({self._task_id!r}, {self._key!r}, length={length})"

    def _fetch(self, start: int, stop: int) -> list[Any]:
        length, values = self._ti.xcom_sequence(self._task_id, self._key, start, stop)
        self._length = int(length)
        return list(values)

    def __len__(self) -> int:
        if self._length is None:
            self._fetch(0, 0)
        return self._length or 0

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not isinstance(index, int):
            raise TypeError(f"sequence indices must be integers or slices, not {type(index)}")
        if index < 0:
            index += len(self)
        if index < 0 or (self._length is not None and index >= self._length):
            raise IndexError("LazyXComSequence index out of range")
        values = self._fetch(index, index + 1)
        if not values:
            raise IndexError("LazyXComSequence index out of range")
        return values[0]

    def __iter__(self) -> Iterator[Any]:
        start = 0
        while True:
            page = self._fetch(start, start + PAGE_SIZE)
            yield from page
            start += len(page)
            if not page or start >= (self._length or 0):
                return

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def same_mapped_group(upstream: Any, task: Any) -> bool:
    """Both tasks belong to the same mapped task group: instance k reads instance k."""
    if task is None:
        return False
    group = getattr(upstream, "mapped_task_group", None)
    return group is not None and group is getattr(task, "mapped_task_group", None)


def materialize(value: Any) -> Any:
    """``value`` with every lazy sequence (a mapped task's results, ``map``/``zip``/``concat``
    results) turned into a list, so a task may return what it received (as in Airflow)."""
    if isinstance(value, str | bytes | bytearray):
        return value
    if isinstance(value, list | tuple):
        return type(value)(materialize(item) for item in value)
    if isinstance(value, dict):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [materialize(item) for item in value]
    return value
