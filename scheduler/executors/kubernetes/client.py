"""The official client for the scheduler's side (the executor, beat's pod garbage collection):
pod_api.load_core_api, with a kubeconfig that cannot be loaded as Django's ImproperlyConfigured
(manage.py prints it without a traceback)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kubernetes.client import CoreV1Api

from scheduler.executors.kubernetes.pod_api import KubeConfigError, load_core_api


def core_api(config_file: Path | None) -> CoreV1Api:
    """A CoreV1Api with its own connection pool (one per thread that uses it)."""
    try:
        return load_core_api(config_file)
    except KubeConfigError as exc:
        raise ImproperlyConfigured(f"Kubernetes executor: {exc}") from exc
