"""Each fault the stand-in can inject, seen through the official client the way our executor
sees it on a real cluster."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import kubernetes
import psutil
import pytest
import urllib3
from kubernetes.client import CoreV1Api
from kubernetes.client.rest import ApiException

from scheduler.kube_standin.process import StandInProcess
from scheduler.kube_standin.standin import KubeStandIn
from scheduler.kube_standin.statuses import ApiError
from tests.kube.pods import (
    NS,
    WATCH_TIMEOUT,
    log_of,
    python_pod,
    start_sleeper,
    terminated,
    wait_phase,
    watch_events,
)
from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]


def waiting_reason(api: CoreV1Api, name: str) -> str | None:
    return reason_in(api.read_namespaced_pod(name, NS))


def reason_in(pod: Any) -> str | None:
    statuses = pod.status.container_statuses
    waiting = statuses and statuses[0].state.waiting
    return waiting.reason if waiting else None


def test_an_image_that_does_not_exist_leaves_the_pod_pending_in_image_pull_back_off(
    kube_api: CoreV1Api,
) -> None:
    pod = python_pod("no-image", "pass")
    pod["spec"]["containers"][0]["image"] = "registry.example/does-not-exist:1"
    since = kube_api.create_namespaced_pod(NS, pod).metadata.resource_version
    events = watch_events(
        kube_api,
        lambda evs: reason_in(evs[-1][1]) == "ImagePullBackOff",
        resource_version=since,
    )
    reasons = [reason_in(obj) for _, obj in events]
    assert reasons[-2:] == ["ErrImagePull", "ImagePullBackOff"]
    assert kube_api.read_namespaced_pod("no-image", NS).status.phase == "Pending"


def test_failing_image_pulls_on_demand(kube_cluster: KubeStandIn, kube_api: CoreV1Api) -> None:
    kube_cluster.fail_image_pulls()
    kube_api.create_namespaced_pod(NS, python_pod("pull-fails", "pass"))
    wait_until(lambda: waiting_reason(kube_api, "pull-fails") == "ImagePullBackOff", "back-off")
    message = (
        kube_api.read_namespaced_pod("pull-fails", NS)
        .status.container_statuses[0]
        .state.waiting.message
    )
    assert message == 'Back-off pulling image "orchestrator:test"'
    kube_cluster.fail_image_pulls(on=False)
    kube_api.create_namespaced_pod(NS, python_pod("pull-works", "pass"))
    wait_phase(kube_api, "pull-works", "Succeeded")


def test_an_unschedulable_pod_stays_pending_until_the_cluster_has_room(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    kube_cluster.unschedulable()
    kube_api.create_namespaced_pod(NS, python_pod("no-room", "print('ran')"))

    def scheduled_condition() -> Any:
        conditions = kube_api.read_namespaced_pod("no-room", NS).status.conditions or []
        return next((c for c in conditions if c.type == "PodScheduled"), None)

    condition = wait_until(scheduled_condition, "the PodScheduled condition")
    assert (condition.status, condition.reason) == ("False", "Unschedulable")
    assert kube_api.read_namespaced_pod("no-room", NS).status.phase == "Pending"
    kube_cluster.unschedulable(on=False)
    wait_phase(kube_api, "no-room", "Succeeded")
    assert log_of(kube_api, "no-room") == "ran\n"


def test_an_oom_killed_container_says_so(kube_cluster: KubeStandIn, kube_api: CoreV1Api) -> None:
    start_sleeper(kube_api, "hungry")
    kube_cluster.oom_kill("hungry")
    pod = wait_phase(kube_api, "hungry", "Failed")
    assert (terminated(pod).exit_code, terminated(pod).reason) == (137, "OOMKilled")
    with pytest.raises(ApiError) as idle:
        kube_cluster.oom_kill("hungry")  # nothing runs any more
    assert idle.value.code == 400


def _watch_in_thread(api: CoreV1Api, **kwargs: Any) -> Any:
    def consume() -> list[str]:
        seen = []
        for event in kubernetes.watch.Watch().stream(api.list_namespaced_pod, NS, **kwargs):
            seen.append(event["type"])
        return seen

    return ThreadPoolExecutor(1).submit(consume)


def open_watches(cluster: KubeStandIn) -> int:
    return int(cluster.inspect(lambda c: len(c.store.watchers)))


def test_dropped_watches_break_mid_stream(kube_cluster: KubeStandIn, kube_api: CoreV1Api) -> None:
    since = kube_api.list_namespaced_pod(NS).metadata.resource_version
    broken = _watch_in_thread(kube_api, resource_version=since, timeout_seconds=WATCH_TIMEOUT)
    wait_until(lambda: open_watches(kube_cluster) == 1, "the watch to open")
    assert kube_cluster.drop_watches() == 1
    with pytest.raises(urllib3.exceptions.ProtocolError):
        broken.result(timeout=60)


def test_cleanly_ended_watches_end_without_error(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    kube_api.create_namespaced_pod(NS, python_pod("seen", "pass"))
    ended = _watch_in_thread(kube_api, timeout_seconds=WATCH_TIMEOUT)
    wait_until(lambda: open_watches(kube_cluster) == 1, "the watch to open")
    kube_cluster.drop_watches(abruptly=False)
    assert ended.result(timeout=60)[0] == "ADDED"


@pytest.mark.parametrize("mode", ["refuse", "503"])
def test_the_api_unreachable_and_back(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api, mode: str
) -> None:
    start_sleeper(kube_api, "survivor")
    kube_cluster.api_unreachable(mode=mode)
    expected: Any = ApiException if mode == "503" else urllib3.exceptions.MaxRetryError
    with pytest.raises(expected) as down:
        kube_api.list_namespaced_pod(NS)
    if mode == "503":
        assert down.value.status == 503
    kube_cluster.api_reachable()
    # The cluster kept running its pods meanwhile.
    assert kube_api.read_namespaced_pod("survivor", NS).status.phase == "Running"


def test_an_outage_for_some_seconds_ends_by_itself(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    kube_cluster.api_unreachable(seconds=0.5)

    def reachable() -> bool:
        try:
            kube_api.list_namespaced_pod(NS)
        except urllib3.exceptions.MaxRetryError:
            return False
        return True

    wait_until(reachable, "the API to come back")


def test_a_pod_deleted_by_someone_else(kube_cluster: KubeStandIn, kube_api: CoreV1Api) -> None:
    start_sleeper(kube_api, "victim")
    since = kube_api.read_namespaced_pod("victim", NS).metadata.resource_version
    kube_cluster.delete_pod("victim")
    events = watch_events(kube_api, lambda evs: evs[-1][0] == "DELETED", resource_version=since)
    assert terminated(events[-2][1]).exit_code == 137


def _pid_file_pod(name: str, pid_file: Path) -> dict[str, Any]:
    code = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)"
    return python_pod(name, code)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stopping_the_stand_in_kills_its_pods(tmp_path: Path) -> None:
    cluster = KubeStandIn(tmp_path / "kube").start()
    api = CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig)))
    pid_file = tmp_path / "pid"
    api.create_namespaced_pod(NS, _pid_file_pod("left-running", pid_file))
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the pod's pid"))
    cluster.stop()
    wait_until(lambda: _gone(pid), "the pod process to die")


def test_as_its_own_process_with_faults_over_http(tmp_path: Path) -> None:
    standin = StandInProcess(tmp_path / "kube").start()
    try:
        api = CoreV1Api(
            kubernetes.config.new_client_from_config(config_file=str(standin.kubeconfig))
        )
        api.create_namespaced_pod(NS, _pid_file_pod("remote", tmp_path / "pid"))
        wait_until(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text(), "pid")
        standin.inject("oom-kill", name="remote")
        pod = wait_phase(api, "remote", "Failed")
        assert terminated(pod).reason == "OOMKilled"
        api.create_namespaced_pod(NS, _pid_file_pod("remote-2", tmp_path / "pid2"))
        pid = int(
            wait_until(
                lambda: (tmp_path / "pid2").exists() and (tmp_path / "pid2").read_text(), "pid"
            )
        )
    finally:
        assert standin.stop() == 0
    wait_until(lambda: _gone(pid), "the pod process to die with the stand-in")
