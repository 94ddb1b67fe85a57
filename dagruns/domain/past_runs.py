"""depends_on_past and wait_for_downstream, decided once for the scheduler and for "why is it
waiting": Airflow's PrevDagrunDep ("Previous Dagrun State"), with its reasons.

The previous run is the DAG's run with the latest `run_after` before this one's. Every
instance (all map indexes) of the task there must have succeeded or been skipped; with
wait_for_downstream (which implies depends_on_past), so must every instance of the task's
immediate downstream tasks there. Unfinished counts as unsuccessful, as in Airflow. The first
run has no past to wait for. A previous run without the task (it was added since) lets it
start only when it never ran before and ignore_first_depends_on_past is set (our default, as
Airflow's `ignore_first_depends_on_past_by_default`); otherwise it waits, as in Airflow.
"""

from __future__ import annotations

from dagruns.domain.dag_graph import graph_for_version
from dagruns.models import DagRun, TaskInstance, TaskInstanceState

TIS = TaskInstanceState
DEP_NAME = "Previous Dagrun State"


def past_depends_unmet(run: DagRun, task_id: str, version_id: int | None = None) -> str | None:
    """Why the task may not start in `run` because of the previous run (Airflow's sentence),
    or None when its past is met (or it does not depend on it). `version_id`: the DAG version
    whose task settings apply (default: the run's)."""
    version_id = version_id if version_id is not None else run.dag_version_id
    if version_id is None:
        return None
    spec = graph_for_version(version_id).tasks.get(task_id)
    if spec is None or not spec.depends_on_past:
        return None
    previous = (
        DagRun.objects.filter(dag_id=run.dag_id, run_after__lt=run.run_after)
        .order_by("-run_after")
        .values_list("pk", flat=True)
        .first()
    )
    if previous is None:
        return None
    past = TaskInstance.objects.filter(dag_run_id=previous)
    if not past.filter(task_id=task_id).exists():
        never_ran = not TaskInstance.objects.filter(
            dag_id=run.dag_id, task_id=task_id, dag_run__run_after__lt=run.run_after
        ).exists()
        if spec.ignore_first_depends_on_past and never_ran:
            return None
        return (
            "depends_on_past is true for this task's DAG, but the previous task instance has "
            "not run yet."
        )
    # "Unsuccessful" as Airflow counts it: not finished counts too (None, running ...).
    unsuccessful = past.exclude(state__in=(TIS.SUCCESS, TIS.SKIPPED))
    count = unsuccessful.filter(task_id=task_id).count()
    if count:
        return (
            f"depends_on_past is true for this task, but {count} previous task instance(s) "
            "are not in a successful state."
        )
    if spec.wait_for_downstream and unsuccessful.filter(task_id__in=spec.downstream).exists():
        return (
            "The tasks downstream of the previous task instance(s) haven't completed, and "
            "wait_for_downstream is True."
        )
    return None
