"""`/home/`: is everything healthy? The scheduler, DAG processor and triggerer heartbeats,
executor slots in use against parallelism, pool usage, import errors, and the runs that
failed in the last 24 hours — each linking to where the details are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from dagruns.actions import pools as pool_actions
from dagruns.domain.health import JOB_TYPES, job_health
from dagruns.models import DagImportError, DagRun, Pool, TaskInstance
from dagruns.models.states import TI_OCCUPYING_SLOT, DagRunState, TaskInstanceState
from dagruns.ui.urls import ws_url
from dagruns.views.access import viewer_required
from dagruns.views.common import render_region

FAILED_WINDOW = timedelta(hours=24)
FAILED_SHOWN = 10


@dataclass(frozen=True)
class PoolUsage:
    name: str
    slots: int
    occupied: int

    @property
    def open(self) -> str:
        return "unlimited" if self.slots < 0 else str(max(self.slots - self.occupied, 0))

    @property
    def full(self) -> bool:
        return 0 <= self.slots <= self.occupied


def pool_usage() -> list[PoolUsage]:
    """Occupied slots as Airflow counts them: queued + running, and deferred for pools that
    include deferred tasks."""
    taken = pool_actions.usage()
    rows = []
    for pool in Pool.objects.order_by("name"):
        by_state = taken.get(pool.name, {})
        states = [TaskInstanceState.QUEUED, TaskInstanceState.RUNNING]
        if pool.include_deferred:
            states.append(TaskInstanceState.DEFERRED)
        rows.append(PoolUsage(pool.name, pool.slots, sum(by_state.get(s, 0) for s in states)))
    return rows


@viewer_required
def home(request):
    since = timezone.now() - FAILED_WINDOW
    failed = DagRun.objects.filter(state=DagRunState.FAILED, end_date__gte=since)
    parallelism = settings.ORCH.parallelism
    in_use = TaskInstance.objects.filter(state__in=TI_OCCUPYING_SLOT).count()
    context = {
        "nav": "home",
        "jobs": [job_health(job_type) for job_type in JOB_TYPES],
        "parallelism": parallelism,
        "slots_in_use": in_use,
        "slots_open": max(parallelism - in_use, 0),
        "pools": pool_usage(),
        "import_errors": DagImportError.objects.count(),
        "failed_count": failed.count(),
        "failed_runs": list(failed.order_by("-end_date", "-id")[:FAILED_SHOWN]),
        "failed_window_hours": int(FAILED_WINDOW.total_seconds() // 3600),
        # Runs and DAGs changing refresh the page (the DAG list's socket: no DAG of its own).
        "ws_url": ws_url(None, view="home"),
    }
    return render_region(request, "dagruns/home.html", context, {"home": "dagruns/_home.html"})
