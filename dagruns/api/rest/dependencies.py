"""Why a task instance is not running yet: the dependencies it fails, in the names Airflow's
`ti_deps` give them ("Trigger Rule", "Dagrun Running", …), computed from the scheduler's own
rules (trigger rules, pools) so the answer matches what the scheduler decides."""

from __future__ import annotations

from typing import Any

from dagruns.domain.dag_graph import graph_for_version
from dagruns.domain.trigger_rules import UpstreamCounts, evaluate
from dagruns.models import DagRunState, Pool, TaskInstance


def failed_dependencies(ti: TaskInstance) -> list[dict[str, Any]]:
    """Only for a task instance that has not started (state none or scheduled), as Airflow."""
    if ti.state not in (None, "scheduled"):
        return []
    deps: list[dict[str, str]] = []
    run = ti.dag_run
    if run.state != DagRunState.RUNNING:
        deps.append(
            {
                "name": "Dagrun Running",
                "reason": "Task instance's dagrun was not in the 'running' state but in the "
                f"state '{run.state}'.",
            }
        )
    if run.dag.is_paused:
        deps.append({"name": "Dag Not Paused", "reason": f"Task's DAG '{ti.dag_id}' is paused."})
    version_id = ti.dag_version_id or run.dag_version_id
    if version_id is not None:
        graph = graph_for_version(version_id)
        spec = graph.tasks.get(ti.task_id)
        if spec is not None and spec.upstream:
            states = dict(
                TaskInstance.objects.filter(
                    dag_run_id=ti.dag_run_id, task_id__in=spec.upstream
                ).values_list("task_id", "state")
            )
            counts = UpstreamCounts.of(
                (states.get(up), graph.tasks[up].is_setup) for up in spec.upstream
            )
            decision = evaluate(spec.trigger_rule, counts)
            if not decision.ready:
                deps.append(
                    {
                        "name": "Trigger Rule",
                        "reason": decision.reason
                        or f"Task's trigger rule '{spec.trigger_rule}' is not yet satisfied.",
                    }
                )
    if not Pool.objects.filter(name=ti.pool).exists():
        deps.append(
            {
                "name": "Pool Slots Available",
                "reason": f"Tasks using non-existent pool '{ti.pool}' will not be scheduled",
            }
        )
    return sorted(deps, key=lambda d: d["name"])
