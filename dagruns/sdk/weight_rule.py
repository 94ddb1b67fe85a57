"""Weight rules: how a task's effective priority is summed over the graph."""

from __future__ import annotations

from enum import Enum


class WeightRule(str, Enum):
    """``downstream`` adds the weights of all descendants, ``upstream`` of all ancestors,
    ``absolute`` uses the task's own ``priority_weight`` only (Airflow semantics)."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def is_valid(cls, weight_rule: object) -> bool:
        return weight_rule in cls.all_weight_rules()

    @classmethod
    def all_weight_rules(cls) -> set[str]:
        return {rule.value for rule in cls}

    def __str__(self) -> str:
        return self.value
