"""Pytest fixtures for the stand-in cluster. tests/kube/conftest.py exposes them here; another
test directory gets them with `from tests.kube.fixtures import kube_api, kube_cluster  # noqa: F401`
in its conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest

from scheduler.kube_standin.standin import KubeStandIn


@pytest.fixture
def kube_cluster(tmp_path: Path) -> Iterator[KubeStandIn]:
    """A started stand-in: `.kubeconfig` (path), `.url`, and the fault methods."""
    cluster = KubeStandIn(tmp_path / "kube").start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kube_api(kube_cluster: KubeStandIn) -> Iterator[kubernetes.client.CoreV1Api]:
    """The unchanged official client, configured from the stand-in's kubeconfig file."""
    api_client = kubernetes.config.new_client_from_config(config_file=str(kube_cluster.kubeconfig))
    try:
        yield kubernetes.client.CoreV1Api(api_client)
    finally:
        api_client.close()
