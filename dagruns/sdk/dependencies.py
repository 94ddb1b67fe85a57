"""The ``>>`` / ``<<`` graph API shared by operators, XComArgs and task groups, plus
``chain`` and ``cross_downstream``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .exceptions import AirflowException, DagDefinitionError

if TYPE_CHECKING:
    from .baseoperator import BaseOperator


class DependencyMixin(ABC):
    """Something that can stand on either side of ``>>``.

    ``roots`` are the tasks an edge *into* it attaches to, ``leaves`` the tasks an edge
    *out of* it starts from; for a single task both are the task itself.
    """

    @property
    @abstractmethod
    def roots(self) -> list[BaseOperator]: ...

    @property
    @abstractmethod
    def leaves(self) -> list[BaseOperator]: ...

    def set_upstream(self, other: Any, edge_modifier: Any = None) -> None:
        """Make ``other`` (a node or a list of nodes) run before this one; an
        ``edge_modifier`` (``Label(...)``) labels the new edges."""
        for task in self.roots:
            task._set_relatives(other, upstream=True, edge_modifier=edge_modifier)

    def set_downstream(self, other: Any, edge_modifier: Any = None) -> None:
        """Make ``other`` (a node or a list of nodes) run after this one; an
        ``edge_modifier`` (``Label(...)``) labels the new edges."""
        for task in self.leaves:
            task._set_relatives(other, upstream=False, edge_modifier=edge_modifier)

    def update_relative(  # noqa: B027 - a hook: empty unless a node needs it
        self, other: Any, upstream: bool, edge_modifier: Any = None
    ) -> None:
        """Told that ``other`` was linked to this node (before it if ``upstream``); only
        an edge label needs to know, to link its two sides."""

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> DependencyMixin:
        # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> DependencyMixin:
        # [a, b] << self
        self.set_downstream(other)
        return self


def flatten_nodes(other: Any) -> list[DependencyMixin]:
    """A node or an iterable of nodes as a list of nodes; anything else is an error."""
    items = [other] if isinstance(other, DependencyMixin) else other
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise DagDefinitionError(
            "Relationships can only be set between tasks, task groups and XComArgs "
            f"(or lists of them); received {type(other).__name__}: {other!r}"
        )
    nodes = list(items)
    for node in nodes:
        if not isinstance(node, DependencyMixin):
            raise DagDefinitionError(
                "Relationships can only be set between tasks, task groups and XComArgs; "
                f"received {type(node).__name__}: {node!r}"
            )
    return nodes


def chain(*tasks: Any) -> None:
    """Link the arguments in sequence: ``chain(a, [b, c], [d, e], f)`` gives a>>b, a>>c,
    b>>d, c>>e, d>>f, e>>f. Two adjacent lists must have equal length and are linked
    pairwise (Airflow's rule)."""
    for up, down in zip(tasks, tasks[1:], strict=False):
        if isinstance(up, DependencyMixin):
            up.set_downstream(down)
            continue
        if isinstance(down, DependencyMixin):
            down.set_upstream(up)
            continue
        if not isinstance(up, Sequence) or not isinstance(down, Sequence):
            raise TypeError(f"Chain not supported between instances of {type(up)} and {type(down)}")
        if len(up) != len(down):
            raise AirflowException(
                f"Chain not supported for different length Iterable. Got {len(up)} and {len(down)}."
            )
        for up_task, down_task in zip(up, down, strict=True):
            up_task.set_downstream(down_task)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    """Make every task of ``to_tasks`` downstream of every task of ``from_tasks``."""
    for task in from_tasks:
        task.set_downstream(to_tasks)


def chain_linear(*elements: Any) -> None:
    """Link each element to every task of the next: ``chain_linear(a, [b, c], [d, e, f], g)``
    gives a>>b, a>>c, then each of b and c >> each of d, e, f, then each of d, e, f >> g
    (Airflow's ``chain_linear``; unlike ``chain``, adjacent lists may differ in length)."""
    if not elements:
        raise ValueError("No tasks provided; nothing to do.")
    previous: list[Any] | None = None
    linked = False
    for element in elements:
        if getattr(element, "is_edge_modifier", False):
            raise ValueError("Labels are not supported by chain_linear")
        current = flatten_nodes(element)
        if previous is not None:
            for task in previous:
                task.set_downstream(current)
                linked = True
        previous = current
    if not linked:
        raise ValueError("No dependencies were set. Did you forget to expand with `*`?")
