"""Why a task instance is not running yet, as Airflow's dependencies endpoint answers it: the
dependencies it fails, by name, only while it has not started (state none or scheduled).
The reasons are the actions' `why_waiting`, the same the task page shows."""

from __future__ import annotations

from typing import Any

from dagruns.actions.waiting import NOT_STARTED, why_waiting
from dagruns.models import TaskInstance


def failed_dependencies(ti: TaskInstance) -> list[dict[str, Any]]:
    if ti.state not in NOT_STARTED:
        return []
    deps = [{"name": dep.name, "reason": dep.reason} for dep in why_waiting(ti)]
    return sorted(deps, key=lambda d: d["name"])
