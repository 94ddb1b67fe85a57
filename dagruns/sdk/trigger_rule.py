"""Trigger rules: when a task may run, given the states of its upstream tasks."""

from __future__ import annotations

from enum import StrEnum


class TriggerRule(StrEnum):
    """The trigger rules of Airflow 3; the scheduler evaluates them, the SDK only names them."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"

    @classmethod
    def is_valid(cls, trigger_rule: object) -> bool:
        # Enum members hash by name, so test them by type and plain strings by value.
        return isinstance(trigger_rule, cls) or (
            isinstance(trigger_rule, str) and trigger_rule in _VALUES
        )

    @classmethod
    def all_triggers(cls) -> set[str]:
        return set(_VALUES)


# Computed once: every operator checks its rule, and a task runner re-creates every operator
# of the DAG file for each try.
_VALUES = frozenset(rule.value for rule in TriggerRule)
