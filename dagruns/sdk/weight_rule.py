"""Weight rules: how a task's effective priority is summed over the graph."""

from __future__ import annotations

from enum import StrEnum


class WeightRule(StrEnum):
    """``downstream`` adds the weights of all descendants, ``upstream`` of all ancestors,
    ``absolute`` uses the task's own ``priority_weight`` only (Airflow semantics)."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def is_valid(cls, weight_rule: object) -> bool:
        # Enum members hash by name, so test them by type and plain strings by value.
        return isinstance(weight_rule, cls) or (
            isinstance(weight_rule, str) and weight_rule in _VALUES
        )

    @classmethod
    def all_weight_rules(cls) -> set[str]:
        return set(_VALUES)


_VALUES = frozenset(rule.value for rule in WeightRule)  # computed once, checked per operator
