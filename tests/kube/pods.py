"""Helpers for tests that drive pods on the stand-in through the official client: pods that
run a Python snippet, waiting for phases, reading logs and watching events."""

from __future__ import annotations

import json
import sys
from typing import Any

import kubernetes
from kubernetes.client import CoreV1Api
from kubernetes.client.rest import ApiException

from tests.polling import wait_until

NS = "default"
WATCH_TIMEOUT = 120  # server-side end of a watch: a missing event fails the test, never hangs it


def python_pod(
    name: str, code: str, labels: dict[str, str] | None = None, **container: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {"app": "standin-test"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "base",
                    "image": "orchestrator:test",
                    "command": [sys.executable, "-c", code],
                    **container,
                }
            ],
        },
    }


def phase(api: CoreV1Api, name: str) -> str:
    return str(api.read_namespaced_pod(name, NS).status.phase)


def wait_phase(api: CoreV1Api, name: str, *phases: str) -> Any:
    return wait_until(
        lambda: (pod := api.read_namespaced_pod(name, NS)).status.phase in phases and pod,
        f"pod {name} in {phases}",
    )


def terminated(pod: Any) -> Any:
    return pod.status.container_statuses[0].state.terminated


def message(exc: ApiException) -> str:
    """The Status message of an API error, as the API server wrote it."""
    return str(json.loads(exc.body)["message"])


def log_of(api: CoreV1Api, name: str) -> str:
    return str(api.read_namespaced_pod_log(name, NS))


def start_sleeper(api: CoreV1Api, name: str, prelude: str = "") -> None:
    """A pod whose container is known to be running (it printed "ready") and waits forever."""
    code = f"import sys, time\n{prelude}\nprint('ready', flush=True)\ntime.sleep(600)"
    api.create_namespaced_pod(NS, python_pod(name, code))
    wait_until(
        lambda: phase(api, name) == "Running" and "ready" in log_of(api, name), f"{name} ready"
    )


def watch_events(api: CoreV1Api, until: Any, **kwargs: Any) -> list[tuple[str, Any]]:
    """Stream pod events until `until(events)` is true; the server ends the watch otherwise."""
    events: list[tuple[str, Any]] = []
    watch = kubernetes.watch.Watch()
    for event in watch.stream(api.list_namespaced_pod, NS, timeout_seconds=WATCH_TIMEOUT, **kwargs):
        events.append((event["type"], event["object"]))
        if until(events):
            watch.stop()
    return events
