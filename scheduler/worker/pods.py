"""Running one try in a Kubernetes pod from a Celery worker, instead of a local runner process:
the design card's "Celery workers that hand work off to pods". A worker does so for every try
when started with `manage.py celery worker --pods`, and for a try whose task has an
`executor_config` with a `pod_override` (or a `pod_template_file`) on any worker.

The pod is the Kubernetes executor's (scheduler/executors/kubernetes/pod_building.py: the
template, the task's pod_override, the runner's command; the token in a Secret the pod owns),
from the worker's own environment: ORCH_KUBERNETES_CONFIG_FILE, _NAMESPACE, _POD_TEMPLATE_FILE,
_WORKER_IMAGE, _POD_PENDING_TIMEOUT, _DELETE_WORKER_PODS and _DELETE_WORKER_PODS_ON_FAILURE.
It carries the try's labels and annotations plus `celery-worker: <worker name>`, so no scheduler
adopts it and beat's pod garbage collection (gc.py) knows its try.

The pool thread that took the message creates the Secret and the pod, watches the pod to its
end (watcher.py, pod_status.py), and returns a RunTryResult: the container's exit code (0: the
runner reported the try's state itself), why the try failed when the pod says so (never started
within ORCH_KUBERNETES_POD_PENDING_TIMEOUT, with the pod's reason such as ErrImagePull;
OOMKilled; deleted by someone else), and what the container printed when the runner could not
report. The scheduler's Celery executor turns that into the try's end and log, as the
Kubernetes executor's events do. The pod is deleted per the settings before the task returns,
and the message is acknowledged only then (acks_late).

Faults:
* The API unreachable or failing when the pod is created: retried with a growing pause for up
  to ORCH_KUBERNETES_POD_PENDING_TIMEOUT, each attempt first looking for the try's pod (a create
  whose answer was lost may have made it); then the try goes back to the queue unclaimed (no
  retry used). A pod the API refuses (422, 403...) or cannot build fails the try saying why.
* The worker dies while its pods run: the pods run on, their runners report through the
  Execution API, and beat's pod garbage collection deletes each once its try is over. A message
  delivered again (the broker's visibility timeout, or a resend) finds the try's pod by its
  labels and the `ti_id` annotation and watches it; it never starts a second pod for a try.
* A terminate request (the executor's remote-control command, hooks.py) deletes the pod with a
  grace period, as the Kubernetes executor's terminate() does.

Differences from the Kubernetes executor: a worker has no database, so "failed" for
ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE means the pod failed (a non-zero exit, OOMKilled,
never started); the pod of a try whose task failed but whose runner reported it (exit 0) is
deleted like a succeeded one (everything in it is in the try's log already).
"""

from __future__ import annotations

import logging
import select
import time
from dataclasses import dataclass
from typing import Any

from kubernetes.client import CoreV1Api
from kubernetes.client import models as k8s

from orchestrator_site.celery import RunTryResult
from orchestrator_site.config import OrchSettings, load_settings
from scheduler.executors.kubernetes.labels import CELERY_WORKER_LABEL, safe_label_value
from scheduler.executors.kubernetes.labels import try_selector as _try_selector
from scheduler.executors.kubernetes.pod_api import (
    TERMINATE_GRACE_SECONDS,
    KubeConfigError,
    api_error,
    create_try_pod,
    delete_pod,
    deletion_wanted,
    is_refusal,
    load_core_api,
    pod_output,
    terminate_pod,
)
from scheduler.executors.kubernetes.pod_building import (
    EXECUTOR_CONFIG_KEYS,
    PodSettings,
    PodSpecError,
    build_try_pod,
)
from scheduler.executors.kubernetes.pod_status import (
    PodEnd,
    name_of,
    pod_end,
    pod_gone,
    pod_try,
    start_problem,
)
from scheduler.executors.kubernetes.watcher import PodWatcher
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_NOT_REPORTED, EXIT_TRY_GONE
from scheduler.runner.workload import Workload
from scheduler.worker import forked

log = logging.getLogger("orchestrator.worker")

# Seconds between looks at the pending timeout and at a terminate request while a pod runs.
CHECK_EVERY = 1.0
CREATE_RETRY_MIN = 0.5
CREATE_RETRY_MAX = 15.0

# Set by `manage.py celery worker --pods` before the worker starts (the pool is threads).
_every_try = False


def run_every_try_in_a_pod() -> None:
    global _every_try
    _every_try = True


def wants_pod(executor_config: Any) -> bool:
    """Whether this worker runs the try in a pod: --pods, or the task asks for one."""
    if _every_try:
        return True
    return isinstance(executor_config, dict) and any(
        key in executor_config for key in EXECUTOR_CONFIG_KEYS
    )


def run_try_in_pod(workload: Workload, worker_name: str) -> RunTryResult:
    """Run the try in a pod and wait for its end (see the module docstring)."""
    orch = load_settings()
    try:
        api = load_core_api(orch.kubernetes_config_file)
        watch_api = load_core_api(orch.kubernetes_config_file)  # the watcher's own connections
    except KubeConfigError as exc:
        return _failed(f"This Celery worker cannot reach Kubernetes: {exc}")
    try:
        return _TryPod(workload, worker_name, orch, api, watch_api).run()
    finally:
        # Each try has its own clients: their connections go with it, not with the garbage
        # collector (the watcher's ends with its thread).
        api.api_client.rest_client.pool_manager.clear()


def _failed(reason: str) -> RunTryResult:
    log.warning("%s", reason)
    return RunTryResult(returncode=EXIT_NOT_REPORTED, reason=reason)


@dataclass
class _Started:
    pod: k8s.V1Pod
    found: bool  # there already (a message delivered again), not created by this call


class _TryPod:
    def __init__(
        self,
        workload: Workload,
        worker_name: str,
        orch: OrchSettings,
        api: CoreV1Api,
        watch_api: CoreV1Api,
    ) -> None:
        self.workload = workload
        self.worker_name = worker_name
        self.orch = orch
        self.namespace = str(orch.kubernetes_namespace)
        self.api = api
        self.watch_api = watch_api
        self.timeout = float(orch.kubernetes_pod_pending_timeout)
        self.name = ""
        self.started = False
        self.problem: str | None = None
        self.terminated = False

    def run(self) -> RunTryResult:
        workload = self.workload
        try:
            built = build_try_pod(
                workload,
                PodSettings(
                    namespace=self.namespace,
                    image=self.orch.kubernetes_worker_image,
                    template_file=self.orch.kubernetes_pod_template_file,
                    job_id=None,
                ),
            )
        except PodSpecError as exc:
            return _failed(f"The try's pod could not be built: {exc}")
        worker = safe_label_value(self.worker_name or "celery")
        for obj in (built.pod, built.secret):
            assert obj.metadata is not None
            obj.metadata.labels = {**(obj.metadata.labels or {}), CELERY_WORKER_LABEL: worker}
        outcome = self._create(built)
        if isinstance(outcome, RunTryResult):
            return outcome
        self.name = name_of(outcome.pod)
        status = outcome.pod.status
        self.started = outcome.found and status is not None and status.phase != "Pending"
        if outcome.found:
            log.warning(
                "%s: its pod %s exists already (the message was delivered again): watching it "
                "instead of starting another",
                workload.label(),
                self.name,
            )
        return self._watch()

    # -- creating ------------------------------------------------------------------------

    def _create(self, built: Any) -> _Started | RunTryResult:
        deadline = time.monotonic() + self.timeout
        pause = 0.0
        while True:
            try:
                existing = self._existing_pod()
                if existing is not None:
                    return _Started(existing, found=True)
                return _Started(create_try_pod(self.api, self.namespace, built), found=False)
            except Exception as exc:  # ApiException, or urllib3's connection errors
                if is_refusal(exc):
                    return _failed(f"The Kubernetes API refused the try's pod: {api_error(exc)}")
                pause = min(CREATE_RETRY_MAX, max(CREATE_RETRY_MIN, pause * 2))
                if time.monotonic() + pause > deadline:
                    reason = (
                        f"This Celery worker could not create the try's pod within "
                        f"{self.timeout:g} s (ORCH_KUBERNETES_POD_PENDING_TIMEOUT): "
                        f"{api_error(exc)}; the try goes back to the queue."
                    )
                    log.error("%s: %s", self.workload.label(), reason)
                    return RunTryResult(returncode=EXIT_NOT_CLAIMED, reason=reason)
                log.warning(
                    "%s: cannot create its pod yet (%s); trying again in %g s",
                    self.workload.label(),
                    api_error(exc),
                    pause,
                )
                time.sleep(pause)

    def _existing_pod(self) -> k8s.V1Pod | None:
        """The try's pod if one exists (pod names are generated: it is found by the try's
        labels and ti_id annotation)."""
        w = self.workload
        pods = self.api.list_namespaced_pod(self.namespace, label_selector=self._selector()).items
        return next((pod for pod in pods if pod_try(pod) == (w.ti_id, w.try_number)), None)

    def _selector(self) -> str:
        w = self.workload
        return _try_selector(w.dag_id, w.task_id, w.run_id, w.try_number, w.map_index)

    # -- watching ------------------------------------------------------------------------

    def _watch(self) -> RunTryResult:
        since = time.monotonic()
        watcher = PodWatcher(self.watch_api, self.namespace, self._selector())
        watcher.start()
        kill_request = forked.kill_file(self.workload.ti_id, self.workload.try_number)
        try:
            while True:
                select.select([watcher.wake_fd], [], [], CHECK_EVERY)
                for kind, pod in watcher.take():
                    if name_of(pod) == self.name:
                        outcome = self._on_pod(kind, pod)
                        if outcome is not None:
                            return outcome
                if not self.terminated and kill_request is not None and kill_request.exists():
                    self._terminate()
                if (
                    not self.started
                    and not self.terminated
                    and time.monotonic() - since >= self.timeout
                ):
                    self._delete(failed=True, force=True)
                    return _failed(
                        f"The pod {self.name} did not start within {self.timeout:g} s "
                        f"(ORCH_KUBERNETES_POD_PENDING_TIMEOUT): "
                        f"{self.problem or 'it stayed Pending'}."
                    )
        finally:
            watcher.stop(wait=0)  # the try's end must not wait for the watch's read

    def _on_pod(self, kind: str, pod: k8s.V1Pod) -> RunTryResult | None:
        """As KubernetesExecutor._on_pod, for the one pod this thread watches."""
        gone = pod_gone(kind, pod, self.terminated, "this worker")
        if gone is not None:
            return RunTryResult(returncode=gone.returncode, reason=gone.reason)
        end = pod_end(pod)
        if end is not None:
            return self._ended(end)
        if pod.status is not None and pod.status.phase == "Running":
            self.started = True
        self.problem = start_problem(pod) or self.problem
        return None

    def _ended(self, end: PodEnd) -> RunTryResult:
        details = pod_output(self.api, self.name, self.namespace) if end.returncode != 0 else []
        # Exit 2: the runner stopped its task because the try was cleared or marked from
        # outside; the pod did not fail (as the executor judges it).
        self._delete(failed=end.returncode not in (0, EXIT_TRY_GONE))
        return RunTryResult(returncode=end.returncode, reason=end.reason, details=details)

    def _terminate(self) -> None:
        # Not done (the API failed): asked again on the next check (the request file stays).
        if terminate_pod(self.api, self.name, self.namespace):
            self.terminated = True
            log.warning(
                "%s: terminated: pod %s deleted (grace period %d s)",
                self.workload.label(),
                self.name,
                TERMINATE_GRACE_SECONDS,
            )

    def _delete(self, failed: bool, force: bool = False) -> None:
        orch = self.orch
        wanted = force or deletion_wanted(
            bool(orch.kubernetes_delete_worker_pods),
            bool(orch.kubernetes_delete_worker_pods_on_failure),
            failed,
        )
        if not wanted:
            return
        pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=self.name, namespace=self.namespace))
        try:
            delete_pod(self.api, pod)
        except Exception as exc:  # beat's pod garbage collection deletes it later
            log.warning("could not delete pod %s: %s", self.name, api_error(exc))
