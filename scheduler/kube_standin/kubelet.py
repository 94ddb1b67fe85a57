"""The stand-in's kubelet: runs each pod's first container `command` + `args` as a local
process and reports phases and container statuses as a real kubelet would.

Pending (scheduled, then ContainerCreating, or stuck: Unschedulable, ErrImagePull →
ImagePullBackOff, CreateContainerConfigError) → Running → Succeeded | Failed, with
`state.terminated.exitCode` and reason Completed / Error / OOMKilled. stdout and stderr go to
one pipe, interleaved as the container runtime interleaves them, and are kept for the log
endpoint. The image is not pulled or used: only its name matters, for fault injection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

from scheduler.kube_standin.store import now_iso

if TYPE_CHECKING:
    from scheduler.kube_standin.cluster import Cluster

NODE_NAME = "standin-node"
MISSING_IMAGE_MARK = "does-not-exist"


class ContainerConfigError(Exception):
    """The container cannot be started as specified (secret missing, unsupported source)."""


@dataclass
class ContainerLog:
    data: bytearray = field(default_factory=bytearray)
    finished: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, chunk: bytes) -> None:
        self.data.extend(chunk)
        self._wake()

    def finish(self) -> None:
        self.finished = True
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


CONTAINER_MARK = "KUBE_STANDIN_POD_UID"


def _kill_marked(uid: str) -> None:
    """SIGKILL every process that carries this pod's mark in its environment."""
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get(CONTAINER_MARK) == uid:
                process.kill()


@dataclass
class PodRuntime:
    """What the kubelet knows about one pod beyond the API object."""

    namespace: str
    name: str
    uid: str
    task: asyncio.Task[None] | None = None
    process: asyncio.subprocess.Process | None = None
    log: ContainerLog | None = None
    oom_killed: bool = False
    kill_timer: asyncio.TimerHandle | None = None
    deadline_exceeded: bool = False
    deadline_timer: asyncio.TimerHandle | None = None
    spawning: bool = False  # between fork and having `process`: cancelling would leak it
    gone: bool = False  # removed from the API: whatever still starts is killed at once


def _container_status(
    container: dict[str, Any], state: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": "running" in state,
        "restartCount": 0,
        "started": "running" in state,
        "state": state,
        **extra,
    }


def _condition(kind: str, status: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    cond: dict[str, Any] = {
        "type": kind,
        "status": "True" if status else "False",
        "lastTransitionTime": now_iso(),
        "lastProbeTime": None,
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


class Kubelet:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.pods: dict[str, PodRuntime] = {}  # by uid
        self.schedulable = asyncio.Event()
        self.schedulable.set()
        self.image_pulls_fail = False

    # --- the pod's life ----------------------------------------------------------------------
    def start(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        runtime = PodRuntime(meta["namespace"], meta["name"], meta["uid"])
        self.pods[runtime.uid] = runtime
        runtime.task = asyncio.get_running_loop().create_task(self._live(runtime))

    def _set_status(self, runtime: PodRuntime, change: Any) -> dict[str, Any] | None:
        """Apply `change(status, pod)` to the pod, unless the pod is gone (deleted meanwhile)."""
        pod = self.cluster.store.find("pods", runtime.namespace, runtime.name)
        if pod is None or pod["metadata"]["uid"] != runtime.uid:
            return None

        def apply(obj: dict[str, Any]) -> None:
            change(obj.setdefault("status", {}), obj)

        return self.cluster.store.update("pods", runtime.namespace, runtime.name, apply)

    def _waiting(self, runtime: PodRuntime, reason: str, message: str = "") -> None:
        def change(status: dict[str, Any], pod: dict[str, Any]) -> None:
            container = pod["spec"]["containers"][0]
            waiting = {"reason": reason, **({"message": message} if message else {})}
            status["containerStatuses"] = [_container_status(container, {"waiting": waiting})]
            status["conditions"] = [
                _condition("PodScheduled", True),
                _condition("Initialized", True),
                _condition("ContainersReady", False, "ContainersNotReady"),
                _condition("Ready", False, "ContainersNotReady"),
            ]

        self._set_status(runtime, change)

    async def _live(self, runtime: PodRuntime) -> None:
        try:
            await self._run(runtime)
            if runtime.deadline_exceeded:
                self._fail_for_deadline(runtime)
        finally:
            # A pod stuck before its container started (image pull, config) still meets its
            # deadline; one whose container ran has finished with it.
            if runtime.deadline_timer is not None and runtime.process is not None:
                runtime.deadline_timer.cancel()
            if runtime.log is not None:
                runtime.log.finish()
            self.cluster.container_finished(runtime)

    async def _run(self, runtime: PodRuntime) -> None:
        if not self.schedulable.is_set():
            message = (
                "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available."
            )
            self._set_status(
                runtime,
                lambda status, _pod: status.update(
                    conditions=[_condition("PodScheduled", False, "Unschedulable", message)]
                ),
            )
            await self.schedulable.wait()

        def schedule(status: dict[str, Any], pod: dict[str, Any]) -> None:
            pod["spec"]["nodeName"] = NODE_NAME
            status.update(hostIP="127.0.0.1", podIP="127.0.0.1", startTime=now_iso())

        self._set_status(runtime, schedule)
        self._waiting(runtime, "ContainerCreating")
        pod = self.cluster.store.find("pods", runtime.namespace, runtime.name)
        if pod is None:
            return
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline is not None:
            runtime.deadline_timer = asyncio.get_running_loop().call_later(
                deadline, self._deadline_exceeded, runtime
            )
        container = pod["spec"]["containers"][0]
        image = container.get("image", "")
        if self.image_pulls_fail or MISSING_IMAGE_MARK in image:
            message = (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to '
                f'pull and unpack image "{image}": not found'
            )
            self._waiting(runtime, "ErrImagePull", message)
            await asyncio.sleep(0)  # the kubelet's next sync: now it backs off
            self._waiting(runtime, "ImagePullBackOff", f'Back-off pulling image "{image}"')
            return
        argv = list(container.get("command") or []) + list(container.get("args") or [])
        if not container.get("command"):
            self._waiting(
                runtime,
                "CreateContainerError",
                "the test stand-in has no image entrypoint: the container needs a `command`",
            )
            return
        try:
            env = self._environment(pod, container)
        except ContainerConfigError as exc:
            self._waiting(runtime, "CreateContainerConfigError", str(exc))
            return
        runtime.log = ContainerLog()
        runtime.spawning = True
        try:
            runtime.process = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=container.get("workingDir") or None,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            self._terminated(runtime, 128, "StartError", f"failed to create containerd task: {exc}")
            return
        finally:
            runtime.spawning = False
        if runtime.gone or runtime.deadline_exceeded:
            self._kill(runtime)
        started = now_iso()

        def running(status: dict[str, Any], pod: dict[str, Any]) -> None:
            status["phase"] = "Running"
            status["containerStatuses"] = [
                _container_status(container, {"running": {"startedAt": started}})
            ]
            status["conditions"] = [
                _condition("PodScheduled", True),
                _condition("Initialized", True),
                _condition("ContainersReady", True),
                _condition("Ready", True),
            ]

        self._set_status(runtime, running)
        assert runtime.process.stdout is not None
        reading = asyncio.ensure_future(self._read_output(runtime))
        returncode = await runtime.process.wait()
        # The container's other processes die with it, as a real kubelet's cgroup kill does:
        # also those in other sessions (a runner's task process), which would otherwise keep
        # the output pipe open and the pod "running" after its main process ended.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(runtime.process.pid, signal.SIGKILL)
        _kill_marked(runtime.uid)
        await reading
        exit_code = returncode if returncode >= 0 else 128 - returncode
        reason = "Completed" if exit_code == 0 else "Error"
        if runtime.oom_killed:
            reason = "OOMKilled"
        self._terminated(runtime, exit_code, reason, "", started)

    def _deadline_exceeded(self, runtime: PodRuntime) -> None:
        """spec.activeDeadlineSeconds passed: the kubelet kills the pod and fails it with
        status.reason DeadlineExceeded."""
        pod = self.cluster.store.find("pods", runtime.namespace, runtime.name)
        if pod is None or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return
        runtime.deadline_exceeded = True
        if runtime.process is not None and runtime.process.returncode is None:
            self._kill(runtime)  # _run reports the termination, then the pod's reason is set
        else:
            self._fail_for_deadline(runtime)

    def _fail_for_deadline(self, runtime: PodRuntime) -> None:
        def change(status: dict[str, Any], pod: dict[str, Any]) -> None:
            status["phase"] = "Failed"
            status["reason"] = "DeadlineExceeded"
            status["message"] = "Pod was active on the node longer than the specified deadline"

        self._set_status(runtime, change)

    def _terminated(
        self, runtime: PodRuntime, exit_code: int, reason: str, message: str, started: str = ""
    ) -> None:
        def change(status: dict[str, Any], pod: dict[str, Any]) -> None:
            container = pod["spec"]["containers"][0]
            terminated: dict[str, Any] = {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": started or None,
                "finishedAt": now_iso(),
                "containerID": f"standin://{runtime.uid}",
            }
            if message:
                terminated["message"] = message
            status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
            status["containerStatuses"] = [_container_status(container, {"terminated": terminated})]
            status["conditions"] = [
                _condition("PodScheduled", True),
                _condition("Initialized", True),
                _condition("ContainersReady", False, "PodCompleted"),
                _condition("Ready", False, "PodCompleted"),
            ]

        self._set_status(runtime, change)

    def _environment(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
        """The test's environment, then HOSTNAME = pod name, then the container's env."""
        env = dict(os.environ)
        env["HOSTNAME"] = pod["metadata"]["name"]
        # Marks every process of the container (children inherit it): the stand-in's cgroup.
        env[CONTAINER_MARK] = pod["metadata"]["uid"]
        namespace = pod["metadata"]["namespace"]
        for source in container.get("envFrom") or []:
            if ref := source.get("secretRef"):
                secret = self._secret(namespace, ref["name"], ref.get("optional", False))
                prefix = source.get("prefix", "")
                for key, value in (secret or {}).get("data", {}).items():
                    env[prefix + key] = base64.b64decode(value).decode()
            else:
                raise ContainerConfigError(
                    "the test stand-in resolves envFrom secretRef only, not " + ", ".join(source)
                )
        for item in container.get("env") or []:
            if "valueFrom" not in item:
                env[item["name"]] = item.get("value", "")
                continue
            value = self._value_from(pod, item["valueFrom"])
            if value is not None:
                env[item["name"]] = value
        return env

    def _value_from(self, pod: dict[str, Any], source: dict[str, Any]) -> str | None:
        if ref := source.get("secretKeyRef"):
            namespace = pod["metadata"]["namespace"]
            secret = self._secret(namespace, ref["name"], ref.get("optional", False))
            if secret is None:
                return None
            data = secret.get("data") or {}
            if ref["key"] not in data:
                if ref.get("optional", False):
                    return None
                raise ContainerConfigError(
                    f"couldn't find key {ref['key']} in Secret {namespace}/{ref['name']}"
                )
            return base64.b64decode(data[ref["key"]]).decode()
        if ref := source.get("fieldRef"):
            path = ref.get("fieldPath", "")
            fields = {
                "metadata.name": pod["metadata"]["name"],
                "metadata.namespace": pod["metadata"]["namespace"],
                "metadata.uid": pod["metadata"]["uid"],
                "spec.nodeName": NODE_NAME,
                "status.podIP": "127.0.0.1",
                "status.hostIP": "127.0.0.1",
            }
            if path in fields:
                return fields[path]
            raise ContainerConfigError(f"the test stand-in does not resolve fieldRef {path!r}")
        raise ContainerConfigError(
            "the test stand-in resolves valueFrom secretKeyRef and fieldRef only, not "
            + ", ".join(source)
        )

    def _secret(self, namespace: str, name: str, optional: bool) -> dict[str, Any] | None:
        secret = self.cluster.store.find("secrets", namespace, name)
        if secret is None and not optional:
            raise ContainerConfigError(f'secret "{name}" not found')
        return secret

    # --- stopping ----------------------------------------------------------------------------
    def terminate(self, runtime: PodRuntime, grace_seconds: int) -> bool:
        """SIGTERM the container, SIGKILL after the grace period; False if nothing runs."""
        process = runtime.process
        if process is None or process.returncode is not None:
            return False
        if grace_seconds <= 0:
            self._kill(runtime)
            return True
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        if runtime.kill_timer is None:
            runtime.kill_timer = asyncio.get_running_loop().call_later(
                grace_seconds, self._kill, runtime
            )
        return True

    async def _read_output(self, runtime: PodRuntime) -> None:
        assert runtime.process is not None and runtime.process.stdout is not None
        assert runtime.log is not None
        while chunk := await runtime.process.stdout.read(65536):
            runtime.log.append(chunk)

    def _kill(self, runtime: PodRuntime) -> None:
        if runtime.process is not None and runtime.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(runtime.process.pid, signal.SIGKILL)
            _kill_marked(runtime.uid)

    def oom_kill(self, runtime: PodRuntime) -> bool:
        if runtime.process is None or runtime.process.returncode is not None:
            return False
        runtime.oom_killed = True
        self._kill(runtime)
        return True

    def forget(self, runtime: PodRuntime) -> None:
        """The pod is gone from the API: stop whatever still runs for it."""
        if runtime.kill_timer is not None:
            runtime.kill_timer.cancel()
        if runtime.deadline_timer is not None:
            runtime.deadline_timer.cancel()
        runtime.gone = True
        self._kill(runtime)
        if runtime.task is not None and runtime.process is None and not runtime.spawning:
            runtime.task.cancel()  # still pending (unschedulable, image pull): nothing to wait for
        self.pods.pop(runtime.uid, None)

    async def shutdown(self) -> None:
        for runtime in list(self.pods.values()):
            self._kill(runtime)
            if runtime.task is not None:
                runtime.task.cancel()
        tasks = [r.task for r in self.pods.values() if r.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pods.clear()
