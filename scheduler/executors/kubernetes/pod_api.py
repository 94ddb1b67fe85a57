"""The calls on a cluster that both launchers of task pods make — the Kubernetes executor (in a
scheduler) and a Celery worker that hands its tries to pods (scheduler/worker/pods.py): the
client from a kubeconfig, creating a try's Secret and pod, deleting a pod, and an API error in
one line.

Django-free, like pod_building.py, pod_status.py, labels.py, reconcile.py and watcher.py: a
Celery worker imports these and nothing else of the executor (the import-linter contract
"kubernetes-pod-parts-no-django" keeps them so).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from kubernetes import config
from kubernetes.client import ApiClient, Configuration, CoreV1Api
from kubernetes.client import models as k8s
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from scheduler.executors.kubernetes.pod_building import BASE_CONTAINER, TryPod
from scheduler.executors.kubernetes.pod_status import name_of, namespace_of

log = logging.getLogger(__name__)

# API answers that refuse the pod itself (malformed, forbidden, no such namespace): creating it
# again would be refused again, so the try fails with the answer. Others are retried.
REFUSALS = frozenset({400, 401, 403, 404, 409, 422})
# The client's default for a dict body is a JSON patch (a list of operations).
MERGE_PATCH = "application/merge-patch+json"
# Seconds between SIGTERM and SIGKILL when a try's pod is deleted (Kubernetes' own default).
TERMINATE_GRACE_SECONDS = 30
POD_LOG_TAIL_LINES = 500


class KubeConfigError(ValueError):
    """The kubeconfig (or the in-cluster service account) cannot be loaded; says which."""


def load_core_api(config_file: Path | None) -> CoreV1Api:
    """A CoreV1Api with its own connection pool (one per thread that uses it), configured from
    `config_file` (ORCH_KUBERNETES_CONFIG_FILE), else the pod's service account when running
    in a cluster, else ~/.kube/config (Airflow's `in_cluster` / `config_file`)."""
    configuration = Configuration()
    try:
        if config_file is not None:
            config.load_kube_config(
                config_file=str(config_file), client_configuration=configuration
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(client_configuration=configuration)
    except (ConfigException, OSError) as exc:
        where = f"{config_file}" if config_file is not None else "the default kubeconfig"
        raise KubeConfigError(f"cannot load {where} (ORCH_KUBERNETES_CONFIG_FILE): {exc}") from exc
    return CoreV1Api(ApiClient(configuration))


def api_error(exc: BaseException) -> str:
    """An ApiException (or a connection error) in one line: the Status message when there is one."""
    if isinstance(exc, ApiException):
        message = exc.reason or ""
        try:
            body = json.loads(exc.body or "{}")
            message = body.get("message") or message
        except (ValueError, AttributeError):
            pass
        return f"{exc.status} {message}".strip()
    return f"{type(exc).__name__}: {exc}"


def is_refusal(exc: BaseException) -> bool:
    return getattr(exc, "status", None) in REFUSALS


def create_try_pod(api: CoreV1Api, namespace: str, built: TryPod) -> k8s.V1Pod:
    """Create the Secret, then the pod, then make the pod the Secret's owner (deleting the pod
    deletes the token). Raises what the API raised; a Secret whose pod was not created is
    deleted again."""
    secret_name = name_of(built.secret)
    api.create_namespaced_secret(namespace, built.secret)
    try:
        pod = api.create_namespaced_pod(namespace, built.pod)
    except Exception:
        try:
            api.delete_namespaced_secret(secret_name, namespace)
        except Exception as exc:
            log.warning("could not delete secret %s: %s", secret_name, api_error(exc))
        raise
    owner = k8s.V1OwnerReference(
        api_version="v1",
        kind="Pod",
        name=name_of(pod),
        uid=str(pod.metadata.uid if pod.metadata is not None else ""),
    )
    api.patch_namespaced_secret(
        secret_name,
        namespace,
        {"metadata": {"ownerReferences": [api.api_client.sanitize_for_serialization(owner)]}},
        _content_type=MERGE_PATCH,
    )
    return pod


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


def deletion_wanted(delete_worker_pods: bool, delete_on_failure: bool, failed: bool) -> bool:
    """ORCH_KUBERNETES_DELETE_WORKER_PODS and its _ON_FAILURE twin, for one ended pod."""
    return delete_worker_pods and (not failed or delete_on_failure)


def terminate_pod(api: CoreV1Api, name: str, namespace: str) -> bool:
    """Delete a running try's pod with TERMINATE_GRACE_SECONDS (SIGTERM, then SIGKILL); True
    when it is deleted or gone, False (said in the log) when the API did not do it."""
    try:
        api.delete_namespaced_pod(name, namespace, grace_period_seconds=TERMINATE_GRACE_SECONDS)
    except Exception as exc:
        if getattr(exc, "status", None) != 404:
            log.warning("could not delete pod %s: %s", name, api_error(exc))
            return False
    return True


def pod_output(api: CoreV1Api, name: str, namespace: str) -> list[str]:
    """What the try's container printed (when its runner could not ship it), as lines for the
    try's log: the last POD_LOG_TAIL_LINES, under a line saying where they come from."""
    try:
        text = api.read_namespaced_pod_log(
            name, namespace, container=BASE_CONTAINER, tail_lines=POD_LOG_TAIL_LINES
        )
    except Exception as exc:
        return [f"WARNING - Could not read pod {name}'s log: {api_error(exc)}"]
    lines = str(text or "").splitlines()
    if not lines:
        return []
    return [
        f"INFO - What pod {name}'s container printed (last {POD_LOG_TAIL_LINES} lines at most):",
        *lines,
    ]
