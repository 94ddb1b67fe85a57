"""Labels on edges: ``a >> Label("on success") >> b`` (Airflow's
``airflow.sdk.Label`` / ``airflow.utils.edgemodifier.Label``).

An EdgeModifier remembers what was put on each side of it and, once both sides are known,
makes the edges itself, recording its label on each one in the DAG's ``edge_info``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dependencies import DependencyMixin, flatten_nodes
from .exceptions import DagDefinitionError

if TYPE_CHECKING:
    from .baseoperator import BaseOperator
    from .dag import DAG


class EdgeModifier(DependencyMixin):
    """Information (a label) for the edges between the nodes on either side of it."""

    is_edge_modifier = True

    def __init__(self, label: str | None = None):
        if label is not None and not isinstance(label, str):
            raise DagDefinitionError(
                f"An edge label must be a str, got {type(label).__name__}: {label!r}"
            )
        self.label = label
        self._upstream: list[DependencyMixin] = []
        self._downstream: list[DependencyMixin] = []

    def __repr__(self) -> str:
        return f"Label({self.label!r})"

    @property
    def roots(self) -> list[BaseOperator]:
        return [task for node in self._downstream for task in node.roots]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [task for node in self._upstream for task in node.leaves]

    def _save(self, other: Any, stream: list[DependencyMixin]) -> list[DependencyMixin]:
        nodes = flatten_nodes(other)
        for node in nodes:
            if isinstance(node, EdgeModifier):
                raise DagDefinitionError(
                    f"Cannot put two edge labels next to each other: {self!r} and {node!r}"
                )
        stream.extend(nodes)
        return nodes

    def set_upstream(self, other: Any, edge_modifier: EdgeModifier | None = None) -> None:
        nodes = self._save(other, self._upstream)
        for node in self._downstream:
            node.set_upstream(nodes, edge_modifier=self)

    def set_downstream(self, other: Any, edge_modifier: EdgeModifier | None = None) -> None:
        nodes = self._save(other, self._downstream)
        for node in self._upstream:
            node.set_downstream(nodes, edge_modifier=self)

    def update_relative(
        self, other: Any, upstream: bool, edge_modifier: EdgeModifier | None = None
    ) -> None:
        # Called when a task links to this label: the task joins the label's other side.
        if upstream:
            self.set_upstream(other)
        else:
            self.set_downstream(other)

    def add_edge_info(self, dag: DAG, upstream_id: str, downstream_id: str) -> None:
        dag.set_edge_info(upstream_id, downstream_id, {"label": self.label})


def Label(label: str) -> EdgeModifier:
    """An EdgeModifier that shows ``label`` on the edges it stands between."""
    if not isinstance(label, str):
        raise DagDefinitionError(
            f"Label() takes the label's text (a str), got {type(label).__name__}: {label!r}"
        )
    return EdgeModifier(label=label)
