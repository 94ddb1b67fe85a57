"""Kubernetes client objects in executor_config serialize to Kubernetes JSON, tagged as
Airflow tags them, without the SDK importing the client."""

from __future__ import annotations

from kubernetes.client import models as k8s

from dagruns.sdk.serialization import json_safe


def test_a_v1pod_becomes_its_kubernetes_json_tagged_k8s_v1pod():
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"team": "ml"}),
        spec=k8s.V1PodSpec(
            containers=[k8s.V1Container(name="base", image_pull_policy="Always")],
            node_selector={"pool": "gpu"},
        ),
    )
    assert json_safe({"pod_override": pod}) == {
        "pod_override": {
            "__type": "k8s.V1Pod",
            "__var": {
                "metadata": {"labels": {"team": "ml"}},
                "spec": {
                    "containers": [{"name": "base", "imagePullPolicy": "Always"}],
                    "nodeSelector": {"pool": "gpu"},
                },
            },
        }
    }
