"""Beat's pod garbage collection (Airflow's KubernetesExecutor `_delete_orphaned_worker_pods`
and `worker_pods_pending_timeout` sweep, as a housekeeping job): deletes every task pod of ours
whose try is over, per ORCH_KUBERNETES_DELETE_WORKER_PODS and its _ON_FAILURE twin. Scheduled only when
ORCH_EXECUTOR lists `kubernetes`."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from scheduler.executors.kubernetes.client import core_api
from scheduler.executors.kubernetes.gc import collect_garbage
from scheduler.housekeeping.jobs import HousekeepingJob, register


def kubernetes_pod_gc(now: datetime) -> str:
    namespace = str(settings.ORCH.kubernetes_namespace)
    deleted, kept = collect_garbage(core_api(settings.ORCH.kubernetes_config_file), namespace)
    return f"{deleted} pod(s) of ended tries deleted, {kept} kept (failed, for debugging)"


def _not_kubernetes() -> str | None:
    if "kubernetes" in settings.ORCH.executors:
        return None
    return "ORCH_EXECUTOR does not list kubernetes"


register(
    HousekeepingJob(
        "kubernetes_pod_gc",
        300.0,
        kubernetes_pod_gc,
        "delete the Kubernetes pods of tries that are over (ORCH_KUBERNETES_DELETE_WORKER_PODS)",
        disabled_because=_not_kubernetes,
    )
)
