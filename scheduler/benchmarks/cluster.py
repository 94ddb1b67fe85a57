"""The Kubernetes benchmark's cluster: the real one ORCH_KUBERNETES_CONFIG_FILE names, or else a
stand-in started here (scheduler/kube_standin: the real Kubernetes REST API, and a kubelet that
runs each pod's container as a local process).

On the stand-in a pod starts as fast as a process forks: its figures are what the executor
itself costs (building the pod and its token Secret, two API round trips, the watch, the
runner's start), not what a real cluster adds on top (scheduling the pod onto a node, pulling
the image when the node does not have it, starting the container: typically seconds).

A real cluster runs the pods it is given on its own nodes, so they must reach this machine's
API server (the Execution API): the benchmark then needs `--api-host`, an address of this
machine the pods can reach, and uses the cluster's configuration as it is
(ORCH_KUBERNETES_NAMESPACE, ORCH_KUBERNETES_POD_TEMPLATE_FILE, ORCH_KUBERNETES_WORKER_IMAGE: an
image holding this version of the orchestrator)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import CommandError

from scheduler.benchmarks.broker import worker_env
from scheduler.kube_standin.process import StandInError, StandInProcess
from scheduler.kube_standin.template import write_runner_pod_template

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class ChosenCluster:
    source: str  # said in the figures: which cluster they were taken on
    env: dict[str, str] = field(default_factory=dict)  # settings for the scheduler
    process: subprocess.Popen[bytes] | None = None  # the stand-in (its pods are its children)


def check_api_host(configured: Path | None, api_host: str) -> None:
    """A real cluster's pods cannot reach this machine's loopback: refuse before starting."""
    if configured is not None and api_host in LOOPBACK:
        raise CommandError(
            f"--executor kubernetes on the cluster of ORCH_KUBERNETES_CONFIG_FILE ({configured}): "
            f"its pods cannot reach the benchmark's API server on {api_host}; pass --api-host "
            "with an address of this machine that the pods reach"
        )


@contextlib.contextmanager
def cluster(configured: Path | None, workdir: Path, env: dict[str, str]) -> Iterator[ChosenCluster]:
    """The configured cluster as it is, or a stand-in process started in `workdir` (with the
    environment of a worker host: its pods get no database settings) and stopped on exit,
    its pods with it."""
    if configured is not None:
        yield ChosenCluster(f"the cluster of ORCH_KUBERNETES_CONFIG_FILE ({configured})")
        return
    standin = StandInProcess(workdir / "standin", env=worker_env(env))
    try:
        standin.start()
    except StandInError as exc:
        raise CommandError(f"the benchmark's stand-in cluster did not start: {exc}") from None
    try:
        assert standin.process is not None
        yield ChosenCluster(
            f"stand-in cluster started by the benchmark at {standin.url} (scheduler/kube_standin:"
            " pods are local processes; no node scheduling, image pull or container start)",
            {
                "ORCH_KUBERNETES_CONFIG_FILE": str(standin.kubeconfig),
                "ORCH_KUBERNETES_POD_TEMPLATE_FILE": str(
                    write_runner_pod_template(workdir / "pod_template.yaml")
                ),
                "ORCH_KUBERNETES_NAMESPACE": "default",
            },
            standin.process,
        )
    finally:
        standin.stop()
