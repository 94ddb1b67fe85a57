"""XComArg: a reference to a task's result, usable before the task has run.

Passing one to another task (TaskFlow call, template field, ``op_kwargs``) records the
upstream edge at definition time and is replaced by the pulled value at run time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .dependencies import DependencyMixin
from .exceptions import AirflowException
from .params import NOTSET
from .resolve import ResolveMixin

if TYPE_CHECKING:
    from .baseoperator import BaseOperator

XCOM_RETURN_KEY = "return_value"


class XComArg(ResolveMixin, DependencyMixin):
    """The XCom ``key`` (default ``return_value``) pushed by ``operator``.

    ``xcomarg["name"]`` refers to one entry of a task with ``multiple_outputs``.
    """

    def __init__(self, operator: BaseOperator, key: str = XCOM_RETURN_KEY):
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, key)

    def __iter__(self) -> Iterator[Any]:
        # Without this, Python would iterate by calling __getitem__(0), (1), ... forever.
        raise TypeError("'XComArg' object is not iterable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XComArg) and (self.operator, self.key) == (
            other.operator,
            other.key,
        )

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))

    def __repr__(self) -> str:
        if self.key == XCOM_RETURN_KEY:
            return f"XComArg({self.operator!r})"
        return f"XComArg({self.operator!r}, {self.key!r})"

    def __str__(self) -> str:
        # A Jinja expression that pulls the value, so an XComArg can be embedded in a
        # templated string (f"echo {xcomarg}"), as in Airflow.
        return (
            f"{{{{ task_instance.xcom_pull(task_ids='{self.operator.task_id}', "
            f"dag_id='{self.operator.dag_id}', key='{self.key}') }}}}"
        )

    @property
    def roots(self) -> list[BaseOperator]:
        return [self.operator]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [self.operator]

    # -- setup / teardown on TaskFlow results (Airflow's PlainXComArg) -----------------

    def as_setup(self) -> XComArg:
        self.operator.as_setup()
        return self

    def as_teardown(
        self, setups: Any = None, on_failure_fail_dagrun: bool | None = None
    ) -> XComArg:
        self.operator.as_teardown(setups=setups, on_failure_fail_dagrun=on_failure_fail_dagrun)
        return self

    def __enter__(self) -> XComArg:
        self.operator.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.operator.__exit__(exc_type, *exc)

    def resolve(self, context: Mapping[str, Any]) -> Any:
        ti = context.get("ti") or context.get("task_instance")
        if ti is None:
            raise AirflowException(
                f"Cannot resolve {self!r}: the task context has no 'ti' to pull XComs from"
            )
        if getattr(self.operator, "is_mapped", False):
            # A mapped task's results: the instance of the same index when both tasks are in
            # the same mapped task group, else all of them, pulled lazily (the reduce step).
            from .lazy_sequence import LazyXComSequence, same_mapped_group

            map_index = getattr(ti, "map_index", -1)
            if map_index >= 0 and same_mapped_group(self.operator, context.get("task")):
                return ti.xcom_pull(
                    task_ids=self.operator.task_id, key=self.key, map_indexes=map_index
                )
            return LazyXComSequence(ti, self.operator.task_id, self.key)
        return ti.xcom_pull(task_ids=self.operator.task_id, key=self.key)

    def serialize(self) -> dict[str, Any]:
        return {"__xcomarg": {"task_id": self.operator.task_id, "key": self.key}}

    # -- dynamic task mapping (dagruns/sdk/xcom_arg_ops.py) ---------------------------

    def map(self, f: Any) -> XComArg:
        """Each item of this (list or dict) result passed through ``f``, lazily at run time."""
        from .xcom_arg_ops import MapXComArg

        return MapXComArg(self, [f])

    def zip(self, *others: XComArg, fillvalue: Any = NOTSET) -> XComArg:
        """Tuples of the n-th items of this and the other results (shortest wins, or the
        longest with ``fillvalue``), as Python's zip / itertools.zip_longest."""
        from .xcom_arg_ops import ZipXComArg

        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def concat(self, *others: XComArg) -> XComArg:
        """The items of this result followed by those of the others."""
        from .xcom_arg_ops import ConcatXComArg

        return ConcatXComArg([self, *others])

    def iter_references(self) -> Iterator[tuple[BaseOperator, str]]:
        """The (task, key) pairs this argument reads."""
        yield self.operator, self.key


_SCALARS = (str, bytes, int, float, bool)


def iter_xcom_args(value: Any, _seen: set[int] | None = None) -> Iterator[XComArg]:
    """Every XComArg inside ``value``, looking into containers and nested templated
    objects (objects with ``template_fields``)."""
    seen = _seen if _seen is not None else set()
    if id(value) in seen:
        return
    if isinstance(value, XComArg):
        yield value
    elif value is None or isinstance(value, _SCALARS):
        return
    elif isinstance(value, Mapping):
        seen.add(id(value))
        for item in value.values():
            if item is not None and not isinstance(item, _SCALARS):
                yield from iter_xcom_args(item, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        seen.add(id(value))
        # Scalars skipped here, not in a nested generator each: a task mapped over a literal
        # list of 1,000 values is built again by every one of its runners.
        for item in value:
            if item is not None and not isinstance(item, _SCALARS):
                yield from iter_xcom_args(item, seen)
    elif hasattr(value, "template_fields") and not isinstance(value, type):
        seen.add(id(value))
        for field in value.template_fields:
            yield from iter_xcom_args(getattr(value, field, None), seen)


def push_return_value(
    task: BaseOperator, ti: Any, value: Any, *, mapped_length: int | None = None
) -> None:
    """Push a finished task's result the way Airflow does, for the task runner.

    With ``multiple_outputs`` a dict result also pushes each entry under its own key.
    Nothing is pushed when ``do_xcom_push`` is off or the result is None.
    """
    if not task.do_xcom_push or value is None:
        return
    if task.multiple_outputs:
        if not isinstance(value, Mapping):
            raise TypeError(
                f"Task {task.task_id!r} has multiple_outputs=True but returned "
                f"{type(value).__name__}, not a dict"
            )
        bad_keys = [key for key in value if not isinstance(key, str)]
        if bad_keys:
            raise TypeError(
                f"Task {task.task_id!r} returned a dict with non-string keys {bad_keys!r}; "
                "multiple_outputs needs string keys"
            )
        for key, item in value.items():
            ti.xcom_push(key=key, value=item)
    if mapped_length is not None:
        # A mapped task expands over this value: the server checks its length.
        ti.xcom_push(key=XCOM_RETURN_KEY, value=value, mapped_length=mapped_length)
    else:
        ti.xcom_push(key=XCOM_RETURN_KEY, value=value)
