"""BaseBranchOperator: subclasses implement ``choose_branch(context)``; the task ids it
returns are followed and the other direct downstream tasks are skipped (Airflow's
``airflow.providers.standard.operators.branch.BaseBranchOperator``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .branch import BranchMixIn


class BaseBranchOperator(BranchMixIn):
    """A branch decided by ``choose_branch``: a task id, a task group id, a list of them,
    or an empty list/None (skip every direct downstream task)."""

    def choose_branch(self, context: Mapping[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch(context)")

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, self.choose_branch(context))
