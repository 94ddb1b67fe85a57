"""Deleting task pods whose try is over (beat's pod garbage collection, and a scheduler's
adoption at start): a pod of ours is garbage once its try is not queued or running at the
pod's try number (ended, cleared, retried, deleted with its run).

ORCH_KUBERNETES_DELETE_WORKER_PODS=false keeps every pod;
ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE=false (the default) keeps the pods of failed
tries for debugging."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from kubernetes.client import CoreV1Api
from kubernetes.client import models as k8s
from kubernetes.client.rest import ApiException

from dagruns.models import TaskInstance, TaskInstanceState
from scheduler.executors.kubernetes.labels import OUR_PODS, TI_ID_ANNOTATION
from scheduler.executors.kubernetes.pod_status import (
    annotations_of,
    labels_of,
    name_of,
    namespace_of,
    pod_end,
)

log = logging.getLogger(__name__)
TIS = TaskInstanceState
ACTIVE = (TIS.QUEUED, TIS.RUNNING)
FAILED_STATES = (TIS.FAILED, TIS.UP_FOR_RETRY)


def pod_try(pod: k8s.V1Pod) -> tuple[str, int] | None:
    """(ti_id, try_number) of one of our pods; None when its metadata was tampered with."""
    ti_id = annotations_of(pod).get(TI_ID_ANNOTATION)
    try:
        return str(uuid.UUID(ti_id)), int(labels_of(pod)["try_number"])
    except (TypeError, ValueError, KeyError):
        return None


def should_delete(failed: bool) -> bool:
    orch = settings.ORCH
    return bool(orch.kubernetes_delete_worker_pods) and (
        not failed or bool(orch.kubernetes_delete_worker_pods_on_failure)
    )


def delete_pod(api: CoreV1Api, pod: k8s.V1Pod, grace_period_seconds: int | None = None) -> bool:
    """Delete a pod (its token Secret goes with it: the pod owns it). False when it was gone."""
    try:
        api.delete_namespaced_pod(
            name_of(pod), namespace_of(pod), grace_period_seconds=grace_period_seconds
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


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
        failed = (end is not None and end.returncode != 0) or (
            state in FAILED_STATES and try_number == key[1]
        )
        if not should_delete(failed):
            kept += 1
            continue
        deleted += delete_pod(api, pod)
    return deleted, kept
