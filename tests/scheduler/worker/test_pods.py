"""A Celery worker's pod for a try (scheduler/worker/pods.py), in process against the stand-in
cluster: the faults at creation. (The whole path, with real workers, is in
tests/e2e/test_celery_pods_e2e.py.)"""

from __future__ import annotations

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes.client import models as k8s

from scheduler.executors.kubernetes.labels import OUR_PODS
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_NOT_REPORTED
from scheduler.worker import forked, hooks, pods
from tests.kube.fixtures import kube_api, kube_cluster  # noqa: F401
from tests.polling import wait_until
from tests.scheduler.executors.kubernetes.test_pod_building import override, workload


@pytest.fixture
def worker_env(kube_cluster, monkeypatch):
    """The worker's ORCH_KUBERNETES_* environment (where a worker's settings come from)."""
    monkeypatch.setenv("ORCH_KUBERNETES_CONFIG_FILE", str(kube_cluster.kubeconfig))
    monkeypatch.setenv("ORCH_KUBERNETES_WORKER_IMAGE", "orchestrator:test")
    monkeypatch.setenv("ORCH_KUBERNETES_POD_PENDING_TIMEOUT", "1.5")
    monkeypatch.delenv("ORCH_KUBERNETES_POD_TEMPLATE_FILE", raising=False)
    return kube_cluster


def test_an_unreachable_api_is_retried_then_the_try_goes_back_to_the_queue_unclaimed(
    worker_env, kube_api
):
    worker_env.api_unreachable()
    result = pods.run_try_in_pod(workload(), "w@test")
    assert result.returncode == EXIT_NOT_CLAIMED  # no retry used: nothing ran
    assert result.reason is not None
    assert "could not create the try's pod within 1.5 s" in result.reason, result.reason
    assert "ORCH_KUBERNETES_POD_PENDING_TIMEOUT" in result.reason
    worker_env.api_reachable()
    assert not kube_api.list_namespaced_pod("default", label_selector=OUR_PODS).items


def test_a_pod_the_api_refuses_fails_the_try_with_the_apis_answer(
    worker_env, kube_api, monkeypatch
):
    monkeypatch.setenv("ORCH_KUBERNETES_NAMESPACE", "no-such-namespace")
    result = pods.run_try_in_pod(workload(), "w@test")
    assert result.returncode == EXIT_NOT_REPORTED
    assert result.reason is not None
    assert result.reason.startswith("The Kubernetes API refused the try's pod: 404"), result.reason


def test_only_tries_that_ask_for_a_pod_get_one_on_a_plain_worker():
    assert pods.wants_pod({"pod_override": {"__type": "k8s.V1Pod", "__var": {}}})
    assert pods.wants_pod({"pod_template_file": "/etc/pod.yaml"})
    assert not pods.wants_pod({})
    assert not pods.wants_pod(None)


def test_a_terminate_request_deletes_the_running_pod_and_ends_the_wait(worker_env, kube_api):
    # The runner's command comes after `sh -c`'s script, as its ignored positional arguments.
    sleeper = k8s.V1Pod(
        spec=k8s.V1PodSpec(
            containers=[k8s.V1Container(name="base", command=["sh", "-c", "exec sleep 120"])]
        )
    )
    work = workload(executor_config=override(sleeper))
    forked.make_run_dir()
    try:
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(pods.run_try_in_pod, work, "w@test")
            wait_until(
                lambda: any(
                    p.status.phase == "Running"
                    for p in kube_api.list_namespaced_pod("default", label_selector=OUR_PODS).items
                ),
                "the try's pod to run",
            )
            # What the executor's remote-control command does on every worker (hooks.py).
            assert not hooks.kill_runner(work.ti_id, work.try_number)  # no local runner here
            result = waiting.result(timeout=60)
    finally:
        forked.remove_run_dir()
    assert result.returncode != 0, result  # SIGTERM (then SIGKILL after the grace period)
    wait_until(
        lambda: not kube_api.list_namespaced_pod("default", label_selector=OUR_PODS).items,
        "the pod's deletion (with its grace period) to finish",
    )
