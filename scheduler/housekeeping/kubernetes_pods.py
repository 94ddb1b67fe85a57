"""Beat's pod garbage collection (Airflow's KubernetesExecutor `_delete_orphaned_worker_pods`
and `worker_pods_pending_timeout` sweep, as a housekeeping job): deletes every task pod of ours
whose try is over, per ORCH_KUBERNETES_DELETE_WORKER_PODS and its _ON_FAILURE twin, including
the pods of Celery workers that hand tries to pods (scheduler/worker/pods.py: a worker that died
leaves them). Scheduled when ORCH_EXECUTOR lists `kubernetes`, or lists `celery` and beat has a
cluster to ask (ORCH_KUBERNETES_CONFIG_FILE, or beat runs in a pod of the cluster)."""

from __future__ import annotations

import os
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
    orch = settings.ORCH
    if "kubernetes" in orch.executors:
        return None
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if "celery" in orch.executors and (orch.kubernetes_config_file is not None or in_cluster):
        return None  # Celery workers may hand tries to pods
    return NO_CLUSTER


NO_CLUSTER = (
    "ORCH_EXECUTOR does not list kubernetes, nor celery with a cluster "
    "(ORCH_KUBERNETES_CONFIG_FILE, or beat in a pod)"
)


register(
    HousekeepingJob(
        "kubernetes_pod_gc",
        300.0,
        kubernetes_pod_gc,
        "delete the Kubernetes pods of tries that are over (ORCH_KUBERNETES_DELETE_WORKER_PODS)",
        disabled_because=_not_kubernetes,
    )
)
