"""ShortCircuitOperator: continue only if a Python condition holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .python import PythonOperator


class ShortCircuitOperator(PythonOperator):
    """Runs the callable and returns its result; when it is falsy the scheduler skips
    downstream tasks: all of them if ``ignore_downstream_trigger_rules`` (default), else
    only the direct ones, leaving further tasks to their own trigger rules. Teardown tasks
    are never skipped."""

    is_short_circuit = True

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: Mapping[str, Any]) -> Any:
        condition = super().execute(context)
        self.log.info("Condition result is %s", condition)
        if condition:
            self.log.info("Proceeding with downstream tasks...")
        elif self.has_dag():
            self.log.info("Skipping downstream tasks: %s", sorted(self.tasks_to_skip()))
        return condition

    def tasks_to_skip(self) -> set[str]:
        """Ids the scheduler should skip when the condition is falsy."""
        if self.ignore_downstream_trigger_rules:
            candidates = self.get_flat_relative_ids(upstream=False)
        else:
            candidates = self.get_direct_relative_ids(upstream=False)
        return {task_id for task_id in candidates if not self.dag.get_task(task_id).is_teardown}
