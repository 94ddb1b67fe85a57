"""The official client, configured from ORCH_KUBERNETES_CONFIG_FILE (a kubeconfig), else the
pod's service account when the scheduler runs in a cluster, else ~/.kube/config (Airflow's
`in_cluster` / `config_file`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kubernetes import config
from kubernetes.client import ApiClient, Configuration, CoreV1Api
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException


def core_api(config_file: Path | None) -> CoreV1Api:
    """A CoreV1Api with its own connection pool (one per thread that uses it)."""
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
        raise ImproperlyConfigured(
            f"Kubernetes executor: cannot load {where} (ORCH_KUBERNETES_CONFIG_FILE): {exc}"
        ) from exc
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
