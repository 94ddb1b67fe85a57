"""What a pod's status says about its try: ended (with the container's exit code and, when the
container did not end on its own terms, why), or stuck before starting (and why).

Pure functions of a V1Pod, so the watcher's decisions are testable without a cluster."""

from __future__ import annotations

import signal
import uuid
from dataclasses import dataclass

from kubernetes.client import models as k8s

from scheduler.executors.kubernetes.labels import TI_ID_ANNOTATION

# Waiting reasons of a container that will not start without someone fixing something.
START_FAILURES = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


@dataclass(frozen=True)
class PodEnd:
    """The try's container ended: its exit code, and a sentence for the try's log when the
    code alone does not explain it (OOMKilled)."""

    returncode: int
    reason: str | None


def pod_end(pod: k8s.V1Pod) -> PodEnd | None:
    """None while the pod has not ended (Pending, Running, Unknown)."""
    status = pod.status
    if status is None or status.phase not in ("Succeeded", "Failed"):
        return None
    phase = status.phase
    terminated = _base_terminated(pod)
    if terminated is None:
        # Failed without a container that ran (evicted, deadline exceeded): the pod's own reason.
        why = ": ".join(p for p in (status.reason, status.message) if p) or "no reason given"
        return PodEnd(0 if phase == "Succeeded" else 1, f"The pod {name_of(pod)} failed ({why}).")
    code = terminated.exit_code if terminated.exit_code is not None else 1
    if terminated.reason == "OOMKilled":
        return PodEnd(
            code or 137,
            f"The task's container in pod {name_of(pod)} was OOMKilled (exit code {code}): it "
            "used more memory than its limit (resources.limits.memory in the pod template or "
            "the task's pod_override).",
        )
    if phase == "Failed" and code == 0:
        return PodEnd(
            1, f"The pod {name_of(pod)} failed: {terminated.reason or 'no reason given'}."
        )
    return PodEnd(code, None)


def pod_gone(kind: str, pod: k8s.V1Pod, terminated: bool, watcher: str) -> PodEnd | None:
    """The end of a watched pod's try when the pod is being removed (None otherwise): deleted
    by someone else before its container ended on its own terms (the reason names `watcher`,
    who did not delete it), or gone after our own terminate (-SIGTERM)."""
    end = pod_end(pod)
    # A pod being deleted carries a deletionTimestamp from the moment it was asked: its
    # container's end (SIGTERM, SIGKILL) may be seen before the pod leaves. Until the
    # container ended the try's runner may still run: its end is awaited.
    being_deleted = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
    deleted = kind == "DELETED" or (being_deleted and end is not None)
    if deleted and not terminated and (end is None or end.returncode != 0):
        how = f" (its container exited with code {end.returncode})" if end else ""
        return PodEnd(
            end.returncode if end else -signal.SIGKILL,
            f"The pod {name_of(pod)} was deleted (not by {watcher}) before its try ended{how}.",
        )
    if kind == "DELETED" and end is None:  # deleted by our terminate: the try moved on
        return PodEnd(-signal.SIGTERM, None)
    return None


def start_problem(pod: k8s.V1Pod) -> str | None:
    """Why a Pending pod's container does not start (an image it cannot pull, no node to run
    on), in the pod's own words; None when nothing is wrong yet."""
    status = pod.status
    if status is None or status.phase != "Pending":
        return None
    for container in status.container_statuses or []:
        waiting = container.state.waiting if container.state is not None else None
        if waiting is not None and waiting.reason in START_FAILURES:
            return _reason(waiting.reason, waiting.message)
    for condition in status.conditions or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            return _reason(condition.reason or "Unschedulable", condition.message)
    return None


def pod_try(pod: k8s.V1Pod) -> tuple[str, int] | None:
    """(ti_id, try_number) of one of our pods; None when its metadata was tampered with."""
    ti_id = annotations_of(pod).get(TI_ID_ANNOTATION)
    try:
        return str(uuid.UUID(ti_id)), int(labels_of(pod)["try_number"])
    except (TypeError, ValueError, KeyError):
        return None


def _base_terminated(pod: k8s.V1Pod) -> k8s.V1ContainerStateTerminated | None:
    statuses = (pod.status.container_statuses if pod.status is not None else None) or []
    first = pod.spec.containers[0].name if pod.spec and pod.spec.containers else None
    for container in sorted(statuses, key=lambda c: c.name != first):
        if container.state is not None and container.state.terminated is not None:
            return container.state.terminated
    return None


def name_of(pod: k8s.V1Pod | k8s.V1Secret) -> str:
    return str(pod.metadata.name) if pod.metadata is not None else "?"


def namespace_of(pod: k8s.V1Pod) -> str:
    return str(pod.metadata.namespace) if pod.metadata is not None else ""


def labels_of(pod: k8s.V1Pod) -> dict[str, str]:
    return dict(pod.metadata.labels or {}) if pod.metadata is not None else {}


def annotations_of(pod: k8s.V1Pod) -> dict[str, str]:
    return dict(pod.metadata.annotations or {}) if pod.metadata is not None else {}


def _reason(reason: str, message: str | None) -> str:
    return f"{reason}: {message}" if message else reason
