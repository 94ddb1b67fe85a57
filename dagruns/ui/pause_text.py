"""What pausing or unpausing a DAG will do, in words that are true for this DAG: unpausing a
DAG without a (further) scheduled run creates no run, so the dialog must not promise one."""

from __future__ import annotations

from dagruns.models import DagModel
from dagruns.ui import format as fmt


def pause_effect(dag: DagModel, paused: bool) -> str:
    if paused:
        return (
            f"While {dag.dag_id} is paused the scheduler creates none of its runs and queues "
            "none of its tasks; tasks already running finish."
        )
    queued = "Runs already waiting start and their tasks are queued again."
    if dag.next_dagrun_create_after is None:
        schedule = dag.timetable_summary or "None"
        return (
            f"{dag.dag_id} has no scheduled run to come (schedule: {schedule}), so unpausing "
            f"creates no run: it runs only when triggered. {queued}"
        )
    return (
        f"The scheduler creates its runs again: the next one, for "
        f"{fmt.when(dag.next_dagrun)}, once {fmt.when(dag.next_dagrun_create_after)} "
        f"has passed. {queued}"
    )
