"""The watch on our task pods (Airflow's KubernetesJobWatcher), in a thread of the scheduler.

It lists the pods of the label selector once, then watches from the list's resourceVersion,
remembering the resourceVersion of every event so a watch that ends (the server's timeout, a
dropped connection) resumes where it stopped. When the server no longer has that version
(410 Gone: history compacted), it lists again and goes on from the new list: a pod that changed
meanwhile is seen in the list. Any other error lists again after a growing pause.

Every pod seen (listed, added, modified, deleted) goes to `events` as (type, pod); the
scheduler's loop waits on `wake_fd` and takes them in the executor's sync(). The thread never
decides anything about tries: the executor does, in the scheduler's thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from typing import Any

from kubernetes import watch
from kubernetes.client import CoreV1Api
from kubernetes.client import models as k8s
from kubernetes.client.rest import ApiException

log = logging.getLogger(__name__)

LISTED = "LISTED"
# Seconds a watch request lasts before the server ends it and we resume (the client's default
# would be the server's, up to an hour: a thread stuck on a dead connection for that long).
WATCH_TIMEOUT = 30
RETRY_MIN = 0.5
RETRY_MAX = 15.0


class PodWatcher:
    def __init__(self, api: CoreV1Api, namespace: str, label_selector: str) -> None:
        self.api = api
        self.namespace = namespace
        self.label_selector = label_selector
        self.events: queue.SimpleQueue[tuple[str, k8s.V1Pod]] = queue.SimpleQueue()
        self.relists = 0  # lists after the first (410 Gone or an error): for logs and tests
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._stopping = threading.Event()
        # The thread may outlive stop() (a read waiting for the server): whichever of the two
        # ends last closes the wake pipe (a Celery worker starts a watcher per try).
        self._lock = threading.Lock()
        self._done = False
        self._close_when_done = False
        self._watch: watch.Watch | None = None
        self._thread = threading.Thread(
            target=self._run, name="kubernetes-pod-watcher", daemon=True
        )

    @property
    def wake_fd(self) -> int:
        return self._wake_read

    def start(self) -> None:
        self._thread.start()

    def take(self) -> list[tuple[str, k8s.V1Pod]]:
        """The pods seen since the last call, oldest first."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass
        taken = []
        with contextlib.suppress(queue.Empty):
            while True:
                taken.append(self.events.get_nowait())
        return taken

    def stop(self, wait: float = 1.0) -> None:
        """Stop watching; `wait` seconds at most for the thread to end (it ends on its own,
        closing what it holds, once its read returns)."""
        self._stopping.set()
        if self._watch is not None:
            self._watch.stop()
        # The thread may sit in a read until the server's timeout: it is a daemon and exits
        # with the process; waiting a moment lets a quiet watch end cleanly.
        self._thread.join(timeout=wait)
        with self._lock:
            if self._done:
                self._close_pipe()
            else:
                self._close_when_done = True

    def _close_pipe(self) -> None:
        os.close(self._wake_read)
        os.close(self._wake_write)

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self._lock:
                self._done = True
                if self._close_when_done:
                    self._close_pipe()

    def _loop(self) -> None:
        resource_version: str | None = None
        pause = 0.0
        while not self._stopping.is_set():
            try:
                if resource_version is None:
                    resource_version = self._list()
                resource_version = self._watch_from(resource_version)
                pause = 0.0
            except ApiException as exc:
                resource_version = None
                self.relists += 1
                if exc.status == 410:
                    log.info("pod watch: resourceVersion too old (410 Gone); listing again")
                    continue
                pause = min(RETRY_MAX, max(RETRY_MIN, pause * 2))
                log.warning(
                    "pod watch failed (%s %s); listing again in %g s", exc.status, exc.reason, pause
                )
            except Exception as exc:  # connection errors of urllib3 vary: all mean "again"
                if self._stopping.is_set():
                    return  # stop() closed the watch's response under its read
                resource_version = None
                self.relists += 1
                pause = min(RETRY_MAX, max(RETRY_MIN, pause * 2))
                log.warning("pod watch failed (%s); listing again in %g s", exc, pause)
            if pause:
                self._stopping.wait(pause)

    def _list(self) -> str:
        pods = self.api.list_namespaced_pod(self.namespace, label_selector=self.label_selector)
        for pod in pods.items:
            self._put(LISTED, pod)
        return str(pods.metadata.resource_version if pods.metadata is not None else "")

    def _watch_from(self, resource_version: str) -> str:
        self._watch = watch.Watch()
        stream = self._watch.stream(
            self.api.list_namespaced_pod,
            self.namespace,
            label_selector=self.label_selector,
            resource_version=resource_version,
            timeout_seconds=WATCH_TIMEOUT,
            _request_timeout=WATCH_TIMEOUT + 10,
        )
        for event in stream:
            if self._stopping.is_set():
                break
            pod: Any = event["object"]
            if isinstance(pod, k8s.V1Pod):
                if pod.metadata is not None and pod.metadata.resource_version:
                    resource_version = pod.metadata.resource_version
                self._put(str(event["type"]), pod)
        return resource_version

    def _put(self, kind: str, pod: k8s.V1Pod) -> None:
        self.events.put((kind, pod))
        with self._lock, contextlib.suppress(BlockingIOError, OSError):
            if not self._close_when_done:
                os.write(self._wake_write, b"!")
