"""Deleting task pods whose try is over (beat's pod garbage collection, and a scheduler's
adoption at start): a pod of ours is garbage once its try is not queued or running at the
pod's try number (ended, cleared, retried, deleted with its run).

ORCH_KUBERNETES_DELETE_WORKER_PODS=false keeps every pod;
ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE=false (the default) keeps the pods of failed
tries for debugging. A pod whose runner stopped its task because the try was cleared or
marked from outside (exit EXIT_TRY_GONE) did not fail: it goes as the scheduler's terminate()
would have deleted it, even when the try it ran is now failed (the executor and a `--pods`
worker judge it the same way; GC is the backstop when both died first)."""

from __future__ import annotations

import logging

from django.conf import settings
from kubernetes.client import CoreV1Api

from dagruns.models import TaskInstance, TaskInstanceState
from scheduler.executors.kubernetes.labels import OUR_PODS
from scheduler.executors.kubernetes.pod_api import delete_pod, deletion_wanted
from scheduler.executors.kubernetes.pod_status import name_of, pod_end, pod_try
from scheduler.runner.exit_codes import EXIT_TRY_GONE

log = logging.getLogger(__name__)
TIS = TaskInstanceState
ACTIVE = (TIS.QUEUED, TIS.RUNNING)
FAILED_STATES = (TIS.FAILED, TIS.UP_FOR_RETRY)


def should_delete(failed: bool) -> bool:
    orch = settings.ORCH
    return deletion_wanted(
        bool(orch.kubernetes_delete_worker_pods),
        bool(orch.kubernetes_delete_worker_pods_on_failure),
        failed,
    )


def collect_garbage(api: CoreV1Api, namespace: str) -> tuple[int, int]:
    """Delete the pods of ours whose try is over; returns (deleted, kept for debugging)."""
    pods = api.list_namespaced_pod(namespace, label_selector=OUR_PODS).items
    keys = {name_of(pod): pod_try(pod) for pod in pods}
    tries = {
        str(pk): (state, try_number)
        for pk, state, try_number in TaskInstance.objects.filter(
            pk__in=[key[0] for key in keys.values() if key is not None]
        ).values_list("pk", "state", "try_number")
    }
    deleted = kept = 0
    for pod in pods:
        key = keys[name_of(pod)]
        if key is None:
            continue  # not one we can judge: a person changed its metadata
        state, try_number = tries.get(key[0], (None, None))
        if state in ACTIVE and try_number == key[1]:
            continue
        end = pod_end(pod)
        if end is not None and end.returncode == EXIT_TRY_GONE:
            failed = False
        else:
            failed = (end is not None and end.returncode != 0) or (
                state in FAILED_STATES and try_number == key[1]
            )
        if not should_delete(failed):
            kept += 1
            continue
        deleted += delete_pod(api, pod)
    return deleted, kept
