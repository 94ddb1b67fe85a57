"""BranchPythonOperator: a Python function chooses which downstream task(s) to follow."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..baseoperator import BaseOperator
from ..exceptions import AirflowException
from ..skipmixin import XCOM_SKIPMIXIN_FOLLOWED, XCOM_SKIPMIXIN_KEY, SkipMixin
from .python import PythonOperator


class BranchMixIn(BaseOperator, SkipMixin):
    """Validation shared by the branch operators and ``@task.branch`` (a SkipMixin, as
    Airflow's, so subclasses may also call ``skip``/``skip_all_except``).

    The scheduler skips the direct downstream tasks that are not followed; this class
    checks the choice and records it.
    """

    is_branch = True

    def followed_task_ids(self, branches: str | Iterable[str] | None) -> set[str]:
        """The chosen ids, with task group ids replaced by the group's root tasks.

        Every id must be a direct downstream task (or a group containing one).
        """
        if branches is None:
            chosen: list[Any] = []
        elif isinstance(branches, str):
            chosen = [branches]
        else:
            chosen = list(branches)
        not_str = [branch for branch in chosen if not isinstance(branch, str)]
        if not_str:
            raise AirflowException(f"Branch task ids must be strings; got {not_str!r}")
        dag = self.dag
        groups = {group.group_id: group for group in dag.task_group.iter_groups() if group.group_id}
        followed: set[str] = set()
        for branch in chosen:
            if branch in groups:
                followed.update(task.task_id for task in groups[branch].roots)
            else:
                followed.add(branch)
        invalid = sorted(followed - self.downstream_task_ids)
        if invalid:
            raise AirflowException(
                f"Branch task {self.task_id!r} chose {invalid}, which "
                f"{'is not a' if len(invalid) == 1 else 'are not'} direct downstream "
                f"task{'' if len(invalid) == 1 else 's'}; choose from {sorted(self.downstream_task_ids)}"
            )
        return followed

    def do_branch(self, context: Mapping[str, Any], branches: Any) -> Any:
        followed = self.followed_task_ids(branches)
        self.log.info("Branch into %s", sorted(followed))
        ti = context.get("ti")
        if ti is not None and hasattr(ti, "xcom_push"):
            ti.xcom_push(key=XCOM_SKIPMIXIN_KEY, value={XCOM_SKIPMIXIN_FOLLOWED: sorted(followed)})
        return branches


class BranchPythonOperator(PythonOperator, BranchMixIn):
    """Like PythonOperator, but the callable returns the task id (or list of ids, or a
    task group id) to follow; the other direct downstream tasks will be skipped."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))
