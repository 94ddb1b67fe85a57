"""Mapped task groups: ``@task_group`` functions called with ``.expand(...)`` /
``.partial(...).expand(...)`` / ``.expand_kwargs(...)``.

The function body runs once at definition time with a MappedArgument standing for each
mapped parameter; every task inside the group then runs as map-indexed instances, one per
value of the group's expansion, and instance k of a task waits only for instance k of its
upstream tasks in the same group (Airflow's semantics).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .exceptions import DagDefinitionError
from .expandinput import (
    DictOfListsExpandInput,
    ExpandInput,
    ListOfDictsExpandInput,
    MappedArgument,
)
from .taskgroup import TaskGroup


class MappedTaskGroup(TaskGroup):
    """A task group whose tasks run once per value of ``expand_input``."""

    is_mapped = True
    expand_input: ExpandInput

    def __init__(self, *, expand_input: ExpandInput | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.parent_group is not None and self.parent_group.enclosing_mapped_group():
            raise DagDefinitionError(_nested_refusal(self.group_id, expand_input))
        if expand_input is not None:
            self.expand_input = expand_input

    def serialize_expand_input(self) -> dict[str, Any] | None:
        return self.expand_input.serialize()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        # Every task of the group needs the results the group maps over.
        for operator, _ in self.expand_input.iter_references():
            for task in self:
                if task.task_id != operator.task_id:
                    task.set_upstream(operator)


def _nested_refusal(group_id: str | None, expand_input: ExpandInput | None) -> str:
    """Why a mapped group inside a mapped group is refused. Mapping it over the outer group's
    argument is what Airflow itself refuses, in these words; mapping it over anything else
    Airflow accepts, but its instances are numbered over the product of both groups while the
    outer argument is still looked up by that number (out of range past the outer length), so
    we refuse that too rather than run it half-way (docs/authoring.md)."""
    where = f"Task group {group_id!r}"
    values = expand_input.value.values() if isinstance(expand_input, DictOfListsExpandInput) else ()
    if any(isinstance(value, MappedArgument) for value in values):
        return f"{where}: Nested Mapped TaskGroups are not yet supported"
    return (
        f"{where}: a mapped task group inside a mapped task group is not supported (map the "
        "outer group over the combined values instead)"
    )


def expand_group(
    function: Callable[..., Any],
    group_kwargs: dict[str, Any],
    partial_kwargs: dict[str, Any],
    mapped_kwargs: dict[str, Any] | None,
    kwargs_list: Any = None,
) -> Any:
    """Build the mapped group around one call of ``function``."""
    group_kwargs = dict(group_kwargs)
    group_kwargs.setdefault("group_id", function.__name__)
    group_kwargs.setdefault("add_suffix_on_collision", True)
    where = f"Task group {group_kwargs['group_id']!r}"
    parameters = inspect.signature(function).parameters
    if mapped_kwargs is not None:
        if not mapped_kwargs:
            raise DagDefinitionError(f"{where}: expand() needs at least one argument to map over")
        for name in mapped_kwargs:
            if name in partial_kwargs:
                raise DagDefinitionError(
                    f"{where}: argument {name!r} is given to both partial() and expand() "
                    "(mapping already partial argument)"
                )
        expand_input: ExpandInput = DictOfListsExpandInput(mapped_kwargs, where)
        names = list(mapped_kwargs)
    else:
        expand_input = ListOfDictsExpandInput(kwargs_list, where)
        names = [name for name in parameters if name not in partial_kwargs]
    for name in names:
        if name not in parameters:
            raise DagDefinitionError(
                f"{where}: {function.__qualname__}() got an unexpected keyword argument "
                f"{name!r} to map over"
            )
    with MappedTaskGroup(expand_input=expand_input, **group_kwargs) as group:
        if function.__doc__ and not group.tooltip:
            group.tooltip = function.__doc__.strip()
        arguments = {name: MappedArgument(group, name) for name in names}
        try:
            inspect.signature(function).bind(**partial_kwargs, **arguments)
        except TypeError as err:
            raise DagDefinitionError(
                f"{where}: arguments do not match {function.__qualname__}: {err}"
            ) from None
        result = function(**partial_kwargs, **arguments)
    return result if result is not None else group
