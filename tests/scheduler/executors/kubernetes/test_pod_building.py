"""The pod and Secret of a try: template + pod_override + the executor's own fields, merged as
Airflow's PodGenerator.reconcile_pods does; labels sanitised; the token only in the Secret."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from kubernetes.client import models as k8s

from dagruns.sdk.serialization import json_safe
from scheduler.executors.kubernetes.labels import safe_label_value
from scheduler.executors.kubernetes.pod_building import (
    PodSettings,
    PodSpecError,
    build_try_pod,
)
from scheduler.runner.pod_env import TOKEN_ENV, WORKLOAD_ENV
from scheduler.runner.workload import Workload

TOKEN = "s3cret-token-value"

TEMPLATE = """
apiVersion: v1
kind: Pod
metadata:
  labels: {team: data}
  annotations: {owner: ops}
spec:
  serviceAccountName: runner
  volumes: [{name: dags, emptyDir: {}}]
  containers:
    - name: base
      image: template/image:1
      command: ["/entrypoint"]
      env: [{name: FROM_TEMPLATE, value: "1"}]
      volumeMounts: [{name: dags, mountPath: /dags}]
      resources: {limits: {memory: 1Gi}}
"""


def workload(**changes: object) -> Workload:
    fields: dict[str, object] = {
        "version": 2,
        "ti_id": "0b0e8d0a-8f6a-4b57-9b7e-1d1c6f3b2a10",
        "dag_id": "etl",
        "run_id": "scheduled__2026-11-30T00:00:00+00:00",
        "task_id": "load",
        "try_number": 2,
        "map_index": 3,
        "token": TOKEN,
        "api_url": "http://api:8000",
    }
    fields.update(changes)
    return Workload.parse(fields)


def settings(tmp_path: Path | None = None, image: str | None = "worker/image:2", job_id=7):
    template = None
    if tmp_path is not None:
        template = tmp_path / "pod.yaml"
        template.write_text(TEMPLATE)
    return PodSettings(namespace="tasks", image=image, template_file=template, job_id=job_id)


def override(pod: k8s.V1Pod) -> dict:
    """executor_config as the DAG processor serializes it (what the workload carries)."""
    return json.loads(json.dumps(json_safe({"pod_override": pod})))


def env_of(pod: k8s.V1Pod) -> dict[str, k8s.V1EnvVar]:
    return {var.name: var for var in pod.spec.containers[0].env}


def test_the_template_gives_the_pod_and_the_executor_its_own_fields(tmp_path):
    built = build_try_pod(workload(), settings(tmp_path))
    pod = built.pod
    base = pod.spec.containers[0]
    assert base.name == "base"
    assert base.image == "worker/image:2"  # ORCH_KUBERNETES_WORKER_IMAGE over the template's
    assert base.command == ["/entrypoint"]
    assert base.args == ["python", "-m", "scheduler.runner", "--from-env"]
    assert base.resources.limits == {"memory": "1Gi"}
    assert [m.name for m in base.volume_mounts] == ["dags"]
    assert pod.spec.service_account_name == "runner"
    assert pod.spec.restart_policy == "Never"
    assert pod.metadata.namespace == "tasks"
    assert pod.metadata.labels["team"] == "data"
    assert pod.metadata.annotations["owner"] == "ops"
    assert set(env_of(pod)) == {"FROM_TEMPLATE", WORKLOAD_ENV, TOKEN_ENV}


def test_labels_are_label_syntax_and_annotations_keep_the_full_ids(tmp_path):
    pod = build_try_pod(workload(), settings(tmp_path)).pod
    labels, annotations = pod.metadata.labels, pod.metadata.annotations
    assert labels["dag_id"] == "etl"
    assert labels["task_id"] == "load"
    assert labels["run_id"] == safe_label_value("scheduled__2026-11-30T00:00:00+00:00")
    assert labels["run_id"] != "scheduled__2026-11-30T00:00:00+00:00"
    assert labels["try_number"] == "2"
    assert labels["map_index"] == "3"
    unmapped = build_try_pod(workload(map_index=-1), settings(tmp_path)).pod.metadata.labels
    assert "map_index" not in unmapped  # "-1" is not a label value
    assert labels["airflow-worker"] == "7"
    assert labels["kubernetes_executor"] == "True"
    assert annotations["run_id"] == "scheduled__2026-11-30T00:00:00+00:00"
    assert annotations["ti_id"] == "0b0e8d0a-8f6a-4b57-9b7e-1d1c6f3b2a10"
    assert len(pod.metadata.name) <= 63


@pytest.mark.parametrize(
    "value",
    ["scheduled__2026-11-30T00:00:00+00:00", "-lead", "x" * 100, "ünïcode", "trail_"],
)
def test_safe_label_values_fit_the_syntax_and_differ_for_different_ids(value):
    import re

    safe = safe_label_value(value)
    assert len(safe) <= 63
    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", safe)
    assert safe != safe_label_value(value + "x")


def test_the_token_is_only_in_the_secret_and_the_pod_takes_it_by_reference(tmp_path):
    built = build_try_pod(workload(), settings(tmp_path))
    spec_text = json.dumps(k8s.V1Pod.to_dict(built.pod), default=str)
    assert TOKEN not in spec_text
    token_var = env_of(built.pod)[TOKEN_ENV]
    assert token_var.value is None
    ref = token_var.value_from.secret_key_ref
    assert ref.name == built.secret.metadata.name
    assert base64.b64decode(built.secret.data[ref.key]).decode() == TOKEN
    shipped = json.loads(env_of(built.pod)[WORKLOAD_ENV].value)
    assert shipped["token"] == ""
    assert shipped["ti_id"] == "0b0e8d0a-8f6a-4b57-9b7e-1d1c6f3b2a10"


def test_pod_override_merges_over_the_template_as_airflow_does(tmp_path):
    pod_override = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"team": "ml", "gpu": "yes"}),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="base",
                    image="override/image:3",
                    env=[k8s.V1EnvVar(name="FROM_OVERRIDE", value="2")],
                    resources=k8s.V1ResourceRequirements(limits={"memory": "4Gi"}),
                ),
                k8s.V1Container(name="sidecar", image="proxy:1"),
            ],
            volumes=[k8s.V1Volume(name="scratch", empty_dir=k8s.V1EmptyDirVolumeSource())],
            node_selector={"pool": "gpu"},
        ),
    )
    w = workload(executor_config=override(pod_override))
    pod = build_try_pod(w, settings(tmp_path)).pod
    base = pod.spec.containers[0]
    assert base.image == "override/image:3"  # the override's image beats the setting
    assert base.resources.limits == {"memory": "4Gi"}
    assert base.command == ["/entrypoint"]  # kept from the template
    assert list(env_of(pod))[:2] == ["FROM_TEMPLATE", "FROM_OVERRIDE"]  # lists add up
    assert [c.name for c in pod.spec.containers] == ["base", "sidecar"]
    assert [v.name for v in pod.spec.volumes] == ["dags", "scratch"]
    assert pod.spec.node_selector == {"pool": "gpu"}
    assert pod.metadata.labels["team"] == "ml" and pod.metadata.labels["gpu"] == "yes"
    assert pod.metadata.labels["dag_id"] == "etl"  # the executor's labels always win
    # The workload in the pod does not carry the executor_config along.
    assert json.loads(env_of(pod)[WORKLOAD_ENV].value)["executor_config"] == {}


def test_without_template_or_image_the_pod_is_refused_naming_the_field():
    with pytest.raises(PodSpecError, match=r"spec.containers\[0\].image"):
        build_try_pod(workload(), settings(image=None))
    pod = build_try_pod(workload(), settings(image="img:1")).pod
    assert [c.name for c in pod.spec.containers] == ["base"]


def test_a_pod_override_that_is_not_a_v1pod_is_refused_naming_the_field(tmp_path):
    container = override(k8s.V1Container(name="base"))["pod_override"]
    for bad in ({"pod_override": container}, {"pod_override": "k8s.V1Pod(...)"}):
        with pytest.raises(PodSpecError, match=r"executor_config\['pod_override'\]"):
            build_try_pod(workload(executor_config=bad), settings(tmp_path))


def test_an_unknown_executor_config_key_is_refused():
    with pytest.raises(PodSpecError, match=r"executor_config\['KubernetesExecutor'\]"):
        build_try_pod(workload(executor_config={"KubernetesExecutor": {}}), settings())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: Pod\nspec: [1, 2]\n", "spec must be a mapping"),
        ("kind: Deployment\n", "kind is 'Deployment'"),
        ("kind: Pod\nspec:\n  containers: {name: base}\n", "spec.containers must be a list"),
        ("kind: Pod\nspec:\n  containers: []\n", "spec.containers is empty"),
        ("kind: Pod\nspec: {containers: [{image: x}]}\n", "name"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_malformed_template_is_refused_naming_file_and_field(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    config = PodSettings(namespace="tasks", image="img:1", template_file=path, job_id=None)
    with pytest.raises(PodSpecError) as raised:
        build_try_pod(workload(), config)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_a_task_may_name_its_own_pod_template_file(tmp_path):
    path = tmp_path / "own.yaml"
    path.write_text(TEMPLATE.replace("serviceAccountName: runner", "serviceAccountName: own"))
    w = workload(executor_config={"pod_template_file": str(path)})
    pod = build_try_pod(w, settings()).pod
    assert pod.spec.service_account_name == "own"
