"""Why a task instance is not running yet, in words a person reads on the task page:
"waiting because upstream `extract` is running". The reasons come from the actions'
`why_waiting`, the same answer the REST API's dependencies endpoint gives."""

from __future__ import annotations

from dataclasses import dataclass

from dagruns.actions.waiting import state_words, why_waiting
from dagruns.models import DagModel, DagRun, TaskInstance
from dagruns.ui.structure import Structure


@dataclass(frozen=True)
class Reason:
    """`before` + `code` (shown as code) + `after`."""

    before: str
    code: str = ""
    after: str = ""


def explain(
    ti: TaskInstance, run: DagRun, dag: DagModel, structure: Structure | None = None
) -> list[Reason]:
    """The task page's list. `structure` is accepted for the page's call; the graph comes
    from the task instance's own DAG version."""
    reasons: list[Reason] = []
    for dep in why_waiting(ti, run=run, dag=dag):
        if dep.pending_upstream:
            # One line per upstream task still unfinished, each id shown as code.
            reasons.extend(
                Reason("waiting because upstream ", up, f" {state_words(state)}")
                for up, state in dep.pending_upstream
            )
        else:
            reasons.append(Reason(dep.before, dep.code, dep.after))
    return reasons
