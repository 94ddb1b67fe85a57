"""The pod and the Secret of one try (Airflow's PodGenerator.construct_pod, for our workload).

The pod is three pods merged (reconcile.py), each over the one before, as in Airflow:

1. the template: ORCH_KUBERNETES_POD_TEMPLATE_FILE, or the task's
   `executor_config={"pod_template_file": ...}`; none: one container named `base`;
2. the task's `executor_config={"pod_override": k8s.V1Pod(...)}`;
3. what the executor sets: name, namespace, labels and annotations naming the try, the image
   (ORCH_KUBERNETES_WORKER_IMAGE unless the override names one), `restartPolicy: Never`, and the
   first container's `args`, which start the task runner: `python -m scheduler.runner --from-env`.

The workload reaches the runner in the container's environment: WORKLOAD_ENV holds its JSON
without the token, and TOKEN_ENV takes the token from the try's Secret (`valueFrom.secretKeyRef`),
so the token is never in the pod spec, which anyone allowed to list pods can read.

Anything malformed (a template that is not a Pod, a pod_override that is not a V1Pod, a field of
the wrong type) raises PodSpecError naming the file or the field: the executor fails that try
with the message, and the scheduler goes on.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client import models as k8s

from dagruns.sdk.k8s_objects import K8S_TYPE_PREFIX
from scheduler.executors.kubernetes.labels import pod_name, try_annotations, try_labels
from scheduler.executors.kubernetes.pod_status import annotations_of, labels_of
from scheduler.executors.kubernetes.reconcile import PodMergeError, reconcile_pods
from scheduler.runner.pod_env import TOKEN_ENV, WORKLOAD_ENV
from scheduler.runner.workload import Workload

# Airflow's name for the task's container (the first one).
BASE_CONTAINER = "base"
TOKEN_KEY = "token"
RUNNER_ARGS = ["python", "-m", "scheduler.runner", "--from-env"]
# The executor_config keys the Kubernetes executor reads (Airflow's).
EXECUTOR_CONFIG_KEYS = ("pod_override", "pod_template_file")


class PodSpecError(ValueError):
    """The pod of a try cannot be built; the message names the file or field at fault."""


@dataclass(frozen=True)
class PodSettings:
    namespace: str
    image: str | None
    template_file: Path | None
    job_id: int | None  # the scheduler job launching the pod (label airflow-worker)


@dataclass(frozen=True)
class TryPod:
    pod: k8s.V1Pod
    secret: k8s.V1Secret


def build_try_pod(workload: Workload, settings: PodSettings) -> TryPod:
    config = workload.executor_config or {}
    unknown = sorted(set(config) - set(EXECUTOR_CONFIG_KEYS))
    if unknown:
        raise PodSpecError(
            f"executor_config[{unknown[0]!r}] is not read by the Kubernetes executor "
            f"(it reads {', '.join(EXECUTOR_CONFIG_KEYS)})"
        )
    template_file = config.get("pod_template_file") or settings.template_file
    template = load_template(Path(template_file)) if template_file else default_template()
    override = pod_override(config.get("pod_override"))
    name = pod_name(workload.dag_id, workload.task_id)
    secret_name = f"{name}-token"
    dynamic = _executor_pod(workload, settings, name, secret_name, override)
    try:
        pod = functools.reduce(reconcile_pods, [override, dynamic], template)
    except PodMergeError as exc:
        raise PodSpecError(f"pod_override or pod template: {exc}") from None
    _check_pod(pod)
    secret = k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(
            name=secret_name,
            namespace=settings.namespace,
            labels=labels_of(dynamic),
            annotations=annotations_of(dynamic),
        ),
        type="Opaque",
        data={TOKEN_KEY: base64.b64encode(workload.token.encode("utf-8")).decode("ascii")},
    )
    return TryPod(pod=pod, secret=secret)


def default_template() -> k8s.V1Pod:
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=BASE_CONTAINER)]),
    )


def load_template(path: Path) -> k8s.V1Pod:
    """The pod of a YAML pod template file (Airflow's pod_template_file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PodSpecError(f"pod template {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PodSpecError(f"pod template {path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PodSpecError(f"pod template {path}: must be a Pod object (a YAML mapping)")
    if data.get("kind", "Pod") != "Pod":
        raise PodSpecError(f"pod template {path}: kind is {data.get('kind')!r}, not 'Pod'")
    try:
        return _deserialize_pod(data)
    except PodSpecError as exc:
        raise PodSpecError(f"pod template {path}: {exc}") from None


def pod_override(value: Any) -> k8s.V1Pod | None:
    """executor_config's pod_override, as the DAG processor serialized it."""
    if value is None:
        return None
    if isinstance(value, k8s.V1Pod):
        return value
    kind = value.get("__type") if isinstance(value, dict) else None
    if kind != K8S_TYPE_PREFIX + "V1Pod" or not isinstance(value.get("__var"), dict):
        what = kind.removeprefix(K8S_TYPE_PREFIX) if isinstance(kind, str) else type(value).__name__
        raise PodSpecError(
            f"executor_config['pod_override'] must be a kubernetes.client.models.V1Pod, not {what}"
        )
    try:
        return _deserialize_pod(value["__var"])
    except PodSpecError as exc:
        raise PodSpecError(f"executor_config['pod_override']: {exc}") from None


def _deserialize_pod(data: dict[str, Any]) -> k8s.V1Pod:
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise PodSpecError("spec must be a mapping")
    containers = (spec or {}).get("containers")
    if containers is not None and not isinstance(containers, list):
        raise PodSpecError("spec.containers must be a list")
    for i, container in enumerate(containers or []):
        if not isinstance(container, dict):
            raise PodSpecError(f"spec.containers[{i}] must be a mapping")
    try:
        # The client's own deserializer (what it does with API responses); Airflow's
        # PodGenerator.deserialize_model_dict calls the same.
        pod = ApiClient()._ApiClient__deserialize(data, "V1Pod")  # type: ignore[attr-defined]
    except (ValueError, TypeError, AttributeError) as exc:
        raise PodSpecError(str(exc)) from None
    if pod.spec is not None and not pod.spec.containers:
        raise PodSpecError("spec.containers is empty")
    return pod


def _executor_pod(
    workload: Workload,
    settings: PodSettings,
    name: str,
    secret_name: str,
    override: k8s.V1Pod | None,
) -> k8s.V1Pod:
    override_image = None
    if override is not None and override.spec is not None and override.spec.containers:
        override_image = override.spec.containers[0].image
    shipped = workload.model_copy(update={"token": "", "executor_config": {}})
    env = [
        k8s.V1EnvVar(name=WORKLOAD_ENV, value=shipped.model_dump_json()),
        k8s.V1EnvVar(
            name=TOKEN_ENV,
            value_from=k8s.V1EnvVarSource(
                secret_key_ref=k8s.V1SecretKeySelector(name=secret_name, key=TOKEN_KEY)
            ),
        ),
    ]
    ids = (workload.dag_id, workload.task_id, workload.run_id)
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(
            name=name,
            namespace=settings.namespace,
            labels=try_labels(*ids, workload.try_number, workload.map_index, settings.job_id),
            annotations=try_annotations(
                workload.ti_id, *ids, workload.try_number, workload.map_index
            ),
        ),
        spec=k8s.V1PodSpec(
            restart_policy="Never",
            containers=[
                k8s.V1Container(
                    name=BASE_CONTAINER,
                    image=override_image or settings.image,
                    args=list(RUNNER_ARGS),
                    env=env,
                )
            ],
        ),
    )


def _check_pod(pod: k8s.V1Pod) -> None:
    if pod.spec is None or not pod.spec.containers:
        raise PodSpecError("spec.containers: the pod has no container")
    container = pod.spec.containers[0]
    if not container.image:
        raise PodSpecError(
            "spec.containers[0].image: no image (set ORCH_KUBERNETES_WORKER_IMAGE, the pod "
            "template's image or the pod_override's)"
        )
    for var in container.env or []:
        if var.name == TOKEN_ENV and var.value is not None:
            raise PodSpecError(f"spec.containers[0].env: {TOKEN_ENV} is set by the executor")
