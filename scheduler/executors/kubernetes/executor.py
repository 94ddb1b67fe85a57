"""The Kubernetes executor (`ORCH_EXECUTOR=kubernetes`, or a task's `executor="kubernetes"`):
one pod per try, running the same task runner as every other executor (Airflow's
KubernetesExecutor).

* `queue()` builds the try's pod and its token Secret (pod_building.py), creates the Secret,
  then the pod, then makes the pod the Secret's owner (so deleting the pod deletes the token).
  A pod that cannot be built or that the API refuses fails its try with the reason in its log.
* A watch on our pods (watcher.py) feeds `sync()`: a pod that ended is an ExecutorEvent with
  the container's exit code (0: the runner reported the try's state itself); OOMKilled, a pod
  deleted by someone else, or a pod Pending past ORCH_KUBERNETES_POD_PENDING_TIMEOUT (image
  pull failing, unschedulable: the pod's reason is quoted) fail the try with that reason. When
  the runner could not report (non-zero exit), what the container printed is fetched and
  appended to the try's log. Ended pods are deleted per ORCH_KUBERNETES_DELETE_WORKER_PODS and
  ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE.
* Pods outlive their scheduler: a stopping scheduler leaves them running (`tries_to_drain()` is
  empty), and a starting one adopts the pods of tries still queued or running whose launcher is
  gone (`on_scheduler_started`), as does a running one at its orphan check when another
  scheduler died (`try_adopt_task_instances`, every ORCH_ORPHANED_TASKS_CHECK_INTERVAL): it
  claims each try in the database (one conditional UPDATE of queued_by_job_id: two schedulers
  never both adopt a pod), relabels the pod with its job id (`airflow-worker`), and handles pods
  that ended while nobody watched; pods of tries that are over are deleted per the settings
  (gc.py, which beat also runs).
* `terminate()` deletes the pod with a grace period (SIGTERM, then SIGKILL) and says so in the
  try's log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from kubernetes.client import models as k8s

from dagruns.actions.adoption import claim_try
from dagruns.actions.requeue import requeue_try
from dagruns.domain.logs import append_lines, log_path
from dagruns.models import Job, TaskInstance, TaskInstanceState
from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.executors.kubernetes.client import core_api
from scheduler.executors.kubernetes.gc import (
    ACTIVE,
    FAILED_STATES,
    collect_garbage,
    should_delete,
)
from scheduler.executors.kubernetes.labels import CELERY_WORKER_LABEL, OUR_PODS, WORKER_LABEL
from scheduler.executors.kubernetes.pod_api import (
    MERGE_PATCH,
    TERMINATE_GRACE_SECONDS,
    api_error,
    create_try_pod,
    delete_pod,
    is_refusal,
    pod_output,
    terminate_pod,
)
from scheduler.executors.kubernetes.pod_building import (
    PodSettings,
    PodSpecError,
    build_try_pod,
)
from scheduler.executors.kubernetes.pod_status import (
    PodEnd,
    annotations_of,
    labels_of,
    name_of,
    pod_end,
    pod_gone,
    pod_try,
    start_problem,
)
from scheduler.executors.kubernetes.watcher import PodWatcher
from scheduler.runner.exit_codes import EXIT_NOT_REPORTED, EXIT_TRY_GONE
from scheduler.runner.workload import Workload

log = logging.getLogger(__name__)

PENDING_CHECK_EVERY = 1.0
ADOPT_RETRY = 5.0
CREATE_RETRY_MIN = 0.5
CREATE_RETRY_MAX = 15.0


@dataclass
class PodTry:
    """One try's pod, from its creation (or adoption) until its end is reported."""

    ti_id: str
    try_number: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    pod_name: str
    since: float  # monotonic: created or adopted
    started: bool = False  # seen Running (or ended): the pending timeout no longer applies
    problem: str | None = None  # the latest reason it does not start
    terminated: bool = False
    # The same try was queued again before this pod was seen to end (a reschedule-mode
    # sensor's next poke; a resumed deferral): the newer pod is the try's, this one's end is
    # not reported (see `queue`).
    superseded: bool = False

    def log_file(self) -> Any:
        return log_path(self.dag_id, self.run_id, self.task_id, self.try_number, self.map_index)


class KubernetesExecutor(BaseExecutor):
    name = "kubernetes"

    def __init__(self, parallelism: int) -> None:
        super().__init__(parallelism)
        orch = settings.ORCH
        self.namespace = str(orch.kubernetes_namespace)
        self.job_id: int | None = None
        self.api = core_api(orch.kubernetes_config_file)
        self.watcher: PodWatcher | None = None
        self._tries: dict[str, PodTry] = {}  # pod name -> its try
        self._events: list[ExecutorEvent] = []  # decided outside sync() (launch failures)
        self._backlog: list[tuple[str, k8s.V1Pod]] = []  # adopted pods, handled on next sync
        self._next_pending_check = 0.0
        self._adopt_at: float | None = None  # monotonic time to retry adoption at start
        self._uncreated: dict[str, Workload] = {}  # ti_id -> a try whose pod waits for the API
        self._create_at = 0.0
        self._create_pause = 0.0
        self._logged_running: int | None = None  # running_count as last logged (see sync)

    # -- the contract --------------------------------------------------------------------

    def start(self) -> None:
        if self.watcher is not None:
            return  # started already (each run of the scheduler's loop calls start())
        watcher_api = core_api(settings.ORCH.kubernetes_config_file)  # its own connections
        self.watcher = PodWatcher(watcher_api, self.namespace, OUR_PODS)
        self.watcher.start()

    def on_scheduler_started(self, job_id: int) -> None:
        self.job_id = job_id
        self._adopt_at = 0.0
        self._try_adoption()

    def adopting_executors(self) -> frozenset[str]:
        return frozenset({self.name})

    def try_adopt_task_instances(self, tis: list[Any], owners: dict[int, Any]) -> int:
        """A scheduler that died while this one runs: its pods are adopted at the next orphan
        check (ORCH_ORPHANED_TASKS_CHECK_INTERVAL, scheduling/adoption.py, which has ended its
        Job row), as at start, rather than only when a scheduler starts (Airflow's
        KubernetesExecutor.try_adopt_task_instances). `tis` are those pods' tries; the pods
        themselves are what is listed and claimed. While an adoption at start is still to be
        retried (the API did not answer), that retry does it."""
        if self.job_id is None or self._adopt_at is not None:
            return 0
        try:
            return self._adopt_pods(at_start=False)
        except Exception as exc:  # ApiException or urllib3's connection errors
            log.error(
                "cannot adopt the pods of %d tries of schedulers that are gone yet (%s); the "
                "next orphan check tries again",
                len(tis),
                api_error(exc),
            )
            return 0

    def _try_adoption(self) -> None:
        """Adopt now; with the API unreachable, say so and try again ADOPT_RETRY later (the
        scheduler runs meanwhile: the pods keep running and reporting on their own)."""
        try:
            self._adopt_pods()
        except Exception as exc:  # ApiException or urllib3's connection errors
            self._adopt_at = time.monotonic() + ADOPT_RETRY
            log.error(
                "cannot adopt the pods of earlier schedulers yet (%s); trying again in %g s",
                api_error(exc),
                ADOPT_RETRY,
            )
        else:
            self._adopt_at = None

    def queue(self, workload: Workload) -> None:
        pod_settings = PodSettings(
            namespace=self.namespace,
            image=settings.ORCH.kubernetes_worker_image,
            template_file=settings.ORCH.kubernetes_pod_template_file,
            job_id=self.job_id,
        )
        try:
            built = build_try_pod(workload, pod_settings)
        except PodSpecError as exc:
            self._fail_at_launch(workload, f"The try's pod could not be built: {exc}")
            return
        try:
            pod = create_try_pod(self.api, self.namespace, built)
        except Exception as exc:  # ApiException, or urllib3's connection errors
            if is_refusal(exc):
                self._fail_at_launch(
                    workload, f"The Kubernetes API refused the try's pod: {api_error(exc)}"
                )
            else:
                self._create_later(workload, exc)
            return
        self._create_pause = 0.0
        # An older pod of this try may still be tracked: its runner reported (up_for_reschedule,
        # deferred) and is ending, or the orphan check deleted it meanwhile (its exit code then
        # is SIGTERM's). Its end is seen after this try is queued again, at the same try
        # number: reported, it would fail the new run of the try. As the local executor
        # forgets an older runner of a re-queued try, its end is not reported.
        for older in self._tries.values():
            if older.ti_id == workload.ti_id:
                older.superseded = True
        name = name_of(pod)
        self._tries[name] = PodTry(
            workload.ti_id,
            workload.try_number,
            workload.dag_id,
            workload.run_id,
            workload.task_id,
            workload.map_index,
            name,
            since=time.monotonic(),
        )
        log.info("%s: pod %s created", workload.label(), name)

    def _create_later(self, workload: Workload, exc: BaseException) -> None:
        """The API is unreachable or failing (not refusing this pod): the try stays queued
        and its pod is created once the API answers (ORCH_TASK_QUEUED_TIMEOUT still applies)."""
        self._create_pause = min(CREATE_RETRY_MAX, max(CREATE_RETRY_MIN, self._create_pause * 2))
        self._create_at = time.monotonic() + self._create_pause
        self._uncreated[workload.ti_id] = workload
        log.warning(
            "%s: cannot create its pod yet (%s); trying again in %g s",
            workload.label(),
            api_error(exc),
            self._create_pause,
        )

    def sync(self) -> list[ExecutorEvent]:
        if self._adopt_at is not None and time.monotonic() >= self._adopt_at:
            self._try_adoption()
        if self._uncreated and time.monotonic() >= self._create_at:
            waiting, self._uncreated = self._uncreated, {}
            for workload in waiting.values():
                self.queue(workload)
        events, self._events = self._events, []
        seen = self._backlog + (self.watcher.take() if self.watcher is not None else [])
        self._backlog = []
        for kind, pod in seen:
            entry = self._tries.get(name_of(pod))
            if entry is not None:
                event = self._on_pod(kind, pod, entry)
                if event is not None and not entry.superseded:
                    events.append(event)
        if time.monotonic() >= self._next_pending_check:
            self._next_pending_check = time.monotonic() + PENDING_CHECK_EVERY
            events += self._fail_pending_too_long()
        self._log_running_count()
        return events

    def _log_running_count(self) -> None:
        """Say in the scheduler's log how many slots this executor holds, each time that
        changes (Airflow logs it at every heartbeat, at debug level): the one outside view of
        a slot leak, e.g. after two schedulers adopted the pods of a dead one."""
        if self.running_count != self._logged_running:
            self._logged_running = self.running_count
            log.info(
                "Kubernetes executor: %d of %d slots in use",
                self.running_count,
                self.parallelism,
            )

    def terminate(self, ti_id: str) -> bool:
        if self._uncreated.pop(ti_id, None) is not None:
            return True  # its pod was never created
        entry = next(
            (e for e in self._tries.values() if e.ti_id == ti_id and not e.superseded), None
        )
        if entry is None or entry.terminated:
            return False
        if not terminate_pod(self.api, entry.pod_name, self.namespace):
            return False  # not marked terminated: the scheduler's next tick asks again
        entry.terminated = True
        append_lines(
            entry.log_file(),
            [
                f"WARNING - The scheduler deleted pod {entry.pod_name} (grace period "
                f"{TERMINATE_GRACE_SECONDS} s): the try is no longer queued or running here."
            ],
        )
        return True

    def running_tries(self) -> dict[str, int]:
        tries = {ti_id: w.try_number for ti_id, w in self._uncreated.items()}
        tries.update({e.ti_id: e.try_number for e in self._tries.values()})
        return tries

    def tries_to_drain(self) -> dict[str, int]:
        return {}  # pods outlive the scheduler; the next one adopts them

    @property
    def running_count(self) -> int:
        return len(self._tries) + len(self._events) + len(self._uncreated)

    def wait_handles(self) -> list[Any]:
        return [self.watcher.wake_fd] if self.watcher is not None else []

    def end(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # -- pods ----------------------------------------------------------------------------

    def _on_pod(self, kind: str, pod: k8s.V1Pod, entry: PodTry) -> ExecutorEvent | None:
        gone = pod_gone(kind, pod, entry.terminated, "this scheduler")
        if gone is not None:
            del self._tries[entry.pod_name]
            return ExecutorEvent(entry.ti_id, entry.try_number, gone.returncode, reason=gone.reason)
        end = pod_end(pod)
        if end is not None:
            return self._ended(entry, pod, end)
        if pod.status is not None and pod.status.phase == "Running":
            entry.started = True
        entry.problem = start_problem(pod) or entry.problem
        return None

    def _ended(self, entry: PodTry, pod: k8s.V1Pod, end: PodEnd) -> ExecutorEvent:
        del self._tries[entry.pod_name]
        details: tuple[str, ...] = ()
        if end.returncode != 0:
            details = tuple(pod_output(self.api, entry.pod_name, self.namespace))
        if end.returncode == EXIT_TRY_GONE and not entry.terminated:
            # The runner saw first that the try was cleared or marked from outside (before
            # this scheduler's tick did) and stopped its task: the pod did not fail, there is
            # nothing in it to debug, so it goes as terminate() would have deleted it.
            if should_delete(failed=False) and self._delete_quietly(pod):
                append_lines(
                    entry.log_file(),
                    [
                        f"WARNING - The scheduler deleted pod {entry.pod_name}: its runner "
                        "stopped the task because the try was cleared or marked from outside."
                    ],
                )
        elif should_delete(failed=end.returncode != 0 or self._try_state(entry) in FAILED_STATES):
            self._delete_quietly(pod)
        return ExecutorEvent(
            entry.ti_id, entry.try_number, end.returncode, reason=end.reason, details=details
        )

    @staticmethod
    def _try_state(entry: PodTry) -> str | None:
        """The try's state as reported by its runner (a 0 exit may still be a failed task)."""
        return (
            TaskInstance.objects.filter(pk=entry.ti_id, try_number=entry.try_number)
            .values_list("state", flat=True)
            .first()
        )

    def _fail_pending_too_long(self) -> list[ExecutorEvent]:
        events = []
        now = time.monotonic()
        timeout = float(settings.ORCH.kubernetes_pod_pending_timeout)
        for entry in list(self._tries.values()):
            if entry.started or entry.terminated or now - entry.since < timeout:
                continue
            del self._tries[entry.pod_name]
            self._delete_quietly(entry.pod_name)
            if entry.superseded:
                continue  # its try runs in a newer pod
            events.append(
                ExecutorEvent(
                    entry.ti_id,
                    entry.try_number,
                    EXIT_NOT_REPORTED,
                    reason=f"The pod {entry.pod_name} did not start within "
                    f"{timeout:g} s (ORCH_KUBERNETES_POD_PENDING_TIMEOUT): "
                    f"{entry.problem or 'it stayed Pending'}.",
                )
            )
        return events

    def _fail_at_launch(self, workload: Workload, reason: str) -> None:
        log.warning("%s: %s", workload.label(), reason)
        self._events.append(
            ExecutorEvent(workload.ti_id, workload.try_number, EXIT_NOT_REPORTED, reason=reason)
        )

    def _delete_quietly(self, pod: k8s.V1Pod | str) -> bool:
        """Delete a pod, saying so in the scheduler's log when that fails; True if deleted."""
        if isinstance(pod, str):
            pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=pod, namespace=self.namespace))
        try:
            return delete_pod(self.api, pod)
        except Exception as exc:
            log.warning("could not delete pod %s: %s", name_of(pod), api_error(exc))
            return False

    # -- adoption ------------------------------------------------------------------------

    def _adopt_pods(self, *, at_start: bool = True) -> int:
        """Take over the pods of tries still queued or running whose launcher is gone; returns
        how many. `at_start`: this scheduler is starting (else: at an orphan check)."""
        assert self.job_id is not None
        pods = self.api.list_namespaced_pod(self.namespace, label_selector=OUR_PODS).items
        live = set(
            Job.objects.filter(job_type="scheduler", state="running", end_date=None)
            .exclude(pk=self.job_id)
            .values_list("pk", flat=True)
        )
        adopted = 0
        for pod in pods:
            if name_of(pod) in self._tries:
                continue
            key = pod_try(pod)
            launcher = labels_of(pod).get(WORKER_LABEL)
            if key is None or (launcher and launcher.isdigit() and int(launcher) in live):
                continue  # not ours to judge, or a live peer's
            if CELERY_WORKER_LABEL in labels_of(pod):
                # A Celery worker's pod (scheduler/worker/pods.py): its runner reports on its
                # own, a redelivered message watches it again, and gc.py deletes it once its
                # try is over; a scheduler that watched it too would report its end twice.
                continue
            row = (
                TaskInstance.objects.filter(pk=key[0])
                .values("state", "try_number", "queued_by_job_id", "dag_id", "run_id")
                .first()
            )
            if row is None or row["state"] not in ACTIVE or row["try_number"] != key[1]:
                continue  # over: collect_garbage below deletes it per the settings
            if row["queued_by_job_id"] in live or row["queued_by_job_id"] == self.job_id:
                # A live peer's, or already ours: a pod of ours not tracked any more is one
                # whose end was handled (a runner that could not claim its try leaves the try
                # at the same number for the next pod), not one to watch again.
                continue
            if not claim_try(key[0], key[1], row["queued_by_job_id"], self.job_id):
                continue  # another scheduler took it first
            self._relabel(pod)
            labels = annotations_of(pod)
            self._tries[name_of(pod)] = PodTry(
                key[0],
                key[1],
                labels.get("dag_id", row["dag_id"]),
                labels.get("run_id", row["run_id"]),
                labels.get("task_id", ""),
                int(labels.get("map_index", "-1")),
                name_of(pod),
                since=time.monotonic(),
                started=pod.status is not None and pod.status.phase != "Pending",
            )
            self._backlog.append(("LISTED", pod))
            adopted += 1
        # Queued tries whose pod the dead scheduler never created go back to the queue at
        # start only: then no scheduler of ours has queued anything yet, while later a peer
        # starting meanwhile could have queued a try and created its pod since the listing
        # above. A running scheduler leaves them to the queued timeout (health.py).
        requeued = self._requeue_tries_without_pod(pods, live) if at_start else 0
        deleted, kept = collect_garbage(self.api, self.namespace)
        if adopted or requeued or deleted or kept:
            log.info(
                "Kubernetes pods %s: %d adopted, %d queued tries without a pod queued "
                "again, %d pods of ended tries deleted, %d kept "
                "(ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE)",
                "at start" if at_start else "of schedulers that are gone",
                adopted,
                requeued,
                deleted,
                kept,
            )
        return adopted

    def _requeue_tries_without_pod(self, pods: list[k8s.V1Pod], live: set[int]) -> int:
        """Tries a dead scheduler queued on this executor but whose pod it never created go
        back to `scheduled` (same try, no retry used), as recovery does for local tries."""
        with_pod = {key[0] for key in map(pod_try, pods) if key is not None}
        orphaned = TaskInstance.objects.filter(
            state=TaskInstanceState.QUEUED, executor=self.name
        ).exclude(queued_by_job_id__in=[*live, self.job_id])
        if live:
            orphaned = orphaned.exclude(queued_by_job_id=None)
        now = timezone.now()
        return sum(
            requeue_try(
                ti, "The scheduler that queued this try stopped before it created its pod.", now
            )
            for ti in orphaned
            if str(ti.pk) not in with_pod
        )

    def _relabel(self, pod: k8s.V1Pod) -> None:
        try:
            self.api.patch_namespaced_pod(
                name_of(pod),
                self.namespace,
                {"metadata": {"labels": {WORKER_LABEL: str(self.job_id)}}},
                _content_type=MERGE_PATCH,
            )
        except Exception as exc:  # the database claim is what counts; the label informs
            log.warning("could not relabel adopted pod %s: %s", name_of(pod), api_error(exc))
