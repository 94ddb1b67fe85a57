"""A stand-in Kubernetes cluster for tests and benchmarks: the real REST API (through the unchanged official
`kubernetes` client and a kubeconfig) for pods, pod logs, secrets and namespaces, a "kubelet"
that runs each pod's container command as a local process, and fault injection.

Why not kmock (PyPI `kmock` 0.8, evaluated for this): its KubernetesEmulator keeps objects as
plain dicts with a placeholder resourceVersion ("..."), watches ignore `resourceVersion` (so
no replay and no 410 Gone), there are no label/field selectors, no subresources such as
`pods/log`, no Status bodies for 422/409 beyond its own, and nothing runs processes. Each of
those is what our executor is tested on, so almost every handler would have been overridden.
This is a small aiohttp server instead (aiohttp: a declared dependency; the official client
needs it too).

Use in tests::

    cluster = KubeStandIn(tmp_path).start()      # or the `kube_cluster` fixture
    kubernetes.config.load_kube_config(config_file=str(cluster.kubeconfig))
    ...
    cluster.fail_image_pulls(); cluster.oom_kill("pod-name"); cluster.compact()
    cluster.stop()

As its own process (a scheduler/worker subprocess reaches it through the kubeconfig)::

    python -m scheduler.kube_standin --port 0 --kubeconfig /tmp/x/kubeconfig

The kubeconfig file is written once the port listens (wait for the file); faults are then
`POST <url>/_standin/<fault>` with a JSON body (see `ApiServer.inject`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import yaml

from scheduler.kube_standin.cluster import Cluster
from scheduler.kube_standin.server import ApiServer

CONTEXT = "standin"


def write_kubeconfig(path: Path, url: str, namespace: str = "default") -> Path:
    """A kubeconfig naming the stand-in, written atomically (readers poll for the file)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
        "users": [{"name": CONTEXT, "user": {"token": "standin-token"}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(yaml.safe_dump(config))
    os.replace(partial, path)
    return path


class KubeStandIn:
    """The stand-in cluster on a background thread's event loop, driven from test code."""

    def __init__(self, directory: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self.kubeconfig = self.directory / "kubeconfig"
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kube-standin", daemon=True
        )
        self._server: ApiServer | None = None

    def start(self) -> KubeStandIn:
        self._thread.start()
        self._server = self._call(self._start())
        self.port = self._server.port
        self.url = f"http://{self.host}:{self.port}"
        write_kubeconfig(self.kubeconfig, self.url)
        return self

    async def _start(self) -> ApiServer:
        server = ApiServer(Cluster(), self.host, self.port)
        await server.start()
        return server

    def stop(self) -> None:
        """Stop the API and kill every pod process; safe to call twice."""
        if self._server is not None:
            self._call(self._server.stop())
            self._server = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)

    def __enter__(self) -> KubeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=60)

    @property
    def cluster(self) -> Cluster:
        """The control plane; only touch it through `inspect` (it lives on another thread)."""
        assert self._server is not None, "the stand-in is not started"
        return self._server.cluster

    def inspect(self, read: Any) -> Any:
        """Run `read(cluster)` on the stand-in's loop and return its result."""

        async def run() -> Any:
            return read(self.cluster)

        return self._call(run())

    # --- faults ------------------------------------------------------------------------------
    def _inject(self, fault: str, **args: Any) -> Any:
        assert self._server is not None, "the stand-in is not started"
        return self._call(self._server.inject(fault, args))

    def fail_image_pulls(self, on: bool = True) -> None:
        """Pods started from now on stay Pending: ErrImagePull, then ImagePullBackOff. (An
        image whose name contains "does-not-exist" always does.)"""
        self._inject("fail-image-pulls", on=on)

    def unschedulable(self, on: bool = True) -> None:
        """Pods started from now on stay Pending with PodScheduled=False, reason
        Unschedulable; `unschedulable(False)` lets them (and the waiting ones) start."""
        self._inject("unschedulable", on=on)

    def oom_kill(self, name: str, namespace: str = "default") -> None:
        """SIGKILL the pod's running container and report it OOMKilled, exit code 137."""
        self._inject("oom-kill", name=name, namespace=namespace)

    def drop_watches(self, abruptly: bool = True) -> int:
        """End every open watch: abruptly (connection reset mid-stream) or cleanly (as the API
        server does at a watch's timeout). Returns how many were open."""
        return int(self._inject("drop-watches", abruptly=abruptly)["dropped"])

    def compact(self) -> str:
        """Forget the event history; a watch from an older resourceVersion gets 410 Gone.
        Returns the resourceVersion a watch may now start from."""
        return str(self._inject("compact")["resourceVersion"])

    def api_unreachable(self, seconds: float | None = None, mode: str = "refuse") -> None:
        """Close the API (mode "refuse": socket closed; "503": every request answered 503)
        until `api_reachable()`, or for `seconds`."""
        self._inject("outage", mode=mode, seconds=seconds)

    def api_reachable(self) -> None:
        self._inject("end-outage")

    def delete_pod(
        self, name: str, namespace: str = "default", grace_period_seconds: int = 0
    ) -> None:
        """Delete a pod as someone else would (an operator's kubectl, an eviction)."""
        self._inject(
            "delete-pod", name=name, namespace=namespace, gracePeriodSeconds=grace_period_seconds
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler.kube_standin", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--kubeconfig", type=Path, required=True, help="where to write the kubeconfig"
    )
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = ApiServer(Cluster(), args.host, args.port)
        await server.start()
        url = f"http://{args.host}:{server.port}"
        write_kubeconfig(args.kubeconfig, url)
        print(f"kube stand-in listening on {url}; kubeconfig {args.kubeconfig}", flush=True)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        await server.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
