"""What a pod's status means for its try: ended (exit code, OOMKilled), or stuck Pending."""

from __future__ import annotations

import signal

from kubernetes.client import models as k8s

from scheduler.executors.kubernetes.labels import try_selector
from scheduler.executors.kubernetes.pod_status import pod_end, pod_gone, start_problem


def pod(phase: str, *, terminated=None, waiting=None, conditions=None) -> k8s.V1Pod:
    state = k8s.V1ContainerState(terminated=terminated, waiting=waiting)
    status = k8s.V1ContainerStatus(
        name="base", image="i", image_id="", ready=False, restart_count=0, state=state
    )
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="p-1"),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base")]),
        status=k8s.V1PodStatus(phase=phase, container_statuses=[status], conditions=conditions),
    )


def test_a_succeeded_pod_ends_with_its_containers_code():
    end = pod_end(pod("Succeeded", terminated=k8s.V1ContainerStateTerminated(exit_code=0)))
    assert end is not None and end.returncode == 0 and end.reason is None


def test_an_oom_killed_container_says_so():
    killed = k8s.V1ContainerStateTerminated(exit_code=137, reason="OOMKilled")
    end = pod_end(pod("Failed", terminated=killed))
    assert end is not None and end.returncode == 137
    assert end.reason is not None and "OOMKilled" in end.reason and "p-1" in end.reason


def test_running_and_pending_pods_have_not_ended():
    assert pod_end(pod("Running")) is None
    assert pod_end(pod("Pending")) is None


def test_a_pending_pod_names_why_it_does_not_start():
    waiting = k8s.V1ContainerStateWaiting(reason="ErrImagePull", message="no such image x")
    assert start_problem(pod("Pending", waiting=waiting)) == "ErrImagePull: no such image x"
    unschedulable = k8s.V1PodCondition(
        type="PodScheduled", status="False", reason="Unschedulable", message="0/3 nodes"
    )
    assert start_problem(pod("Pending", conditions=[unschedulable])) == "Unschedulable: 0/3 nodes"
    assert start_problem(pod("Pending")) is None


def test_a_pod_removed_before_its_try_ended_says_who_did_not_remove_it():
    gone = pod_gone("DELETED", pod("Running"), terminated=False, watcher="this worker")
    assert gone is not None and gone.returncode == -signal.SIGKILL
    assert gone.reason == "The pod p-1 was deleted (not by this worker) before its try ended."
    # Its container killed (SIGTERM) while the deletion is under way: the code is said too.
    being_deleted = pod("Failed", terminated=k8s.V1ContainerStateTerminated(exit_code=143))
    being_deleted.metadata.deletion_timestamp = "2026-11-30T00:00:00Z"
    gone = pod_gone("MODIFIED", being_deleted, terminated=False, watcher="this scheduler")
    assert gone is not None and gone.returncode == 143
    assert gone.reason is not None and "(its container exited with code 143)" in gone.reason


def test_a_pod_we_deleted_or_that_ended_on_its_own_is_not_gone_early():
    ours = pod_gone("DELETED", pod("Running"), terminated=True, watcher="this worker")
    assert ours is not None and (ours.returncode, ours.reason) == (-signal.SIGTERM, None)
    succeeded = pod("Succeeded", terminated=k8s.V1ContainerStateTerminated(exit_code=0))
    assert pod_gone("DELETED", succeeded, terminated=False, watcher="this worker") is None
    assert pod_gone("MODIFIED", pod("Running"), terminated=False, watcher="this worker") is None


def test_the_selector_of_an_unmapped_try_excludes_its_mapped_siblings():
    selector = try_selector("etl", "load", "manual__1", 2, -1)
    assert selector.endswith(",!map_index")
    assert "try_number=2" in selector and "kubernetes_executor=True" in selector
    assert try_selector("etl", "load", "manual__1", 2, 3).endswith("map_index=3")
