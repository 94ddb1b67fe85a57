"""The stand-in's listening side: the aiohttp runner, the fault-injection admin routes
(`POST /_standin/<fault>`), and outages (socket closed, or every request answered 503)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from scheduler.kube_standin.api import Outage, build_app
from scheduler.kube_standin.cluster import Cluster
from scheduler.kube_standin.statuses import ApiError, bad_request, not_found

OUTAGE_MODES = ("refuse", "503")


class ApiServer:
    def __init__(self, cluster: Cluster, host: str, port: int) -> None:
        self.cluster = cluster
        self.host = host
        self.port = port
        self.outage = Outage()
        self.app = build_app(cluster, self.outage)
        _add_admin_routes(self.app, self)
        self.runner = web.AppRunner(
            self.app, handle_signals=False, shutdown_timeout=1, access_log=None
        )
        self.site: web.TCPSite | None = None
        self._outage_end: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        await self.runner.setup()
        await self._listen()

    async def _listen(self) -> None:
        self.site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await self.site.start()
        if self.port == 0:  # keep the port it got: an outage reopens the same one
            self.port = int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self._outage_end is not None:
            self._outage_end.cancel()
        self.cluster.store.drop_watches(abruptly=True)
        await self.cluster.kubelet.shutdown()
        await self.runner.cleanup()

    # --- faults on the API itself ------------------------------------------------------------
    async def begin_outage(self, mode: str, seconds: float | None) -> None:
        """Make the API unreachable: `refuse` closes the listening socket and every open
        connection (clients get connection refused); `503` answers every request with 503.
        Open watches break either way. Ends after `seconds`, or on `end_outage()`."""
        if mode not in OUTAGE_MODES:
            raise bad_request(f"outage mode must be one of {', '.join(OUTAGE_MODES)}, not {mode!r}")
        self.cluster.store.drop_watches(abruptly=True)
        if mode == "503":
            self.outage.active = True
        elif self.site is not None:
            await self.site.stop()
            self.site = None
            server = self.runner.server
            for connection in list(server.connections if server is not None else []):
                connection.force_close()
        if self._outage_end is not None:
            self._outage_end.cancel()
            self._outage_end = None
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._outage_end = loop.call_later(seconds, lambda: loop.create_task(self.end_outage()))

    async def inject(self, fault: str, args: dict[str, Any]) -> Any:
        """Apply one fault by name (the admin routes' and KubeStandIn's shared entry)."""
        cluster = self.cluster
        kubelet = cluster.kubelet
        if fault == "fail-image-pulls":
            kubelet.image_pulls_fail = bool(args.get("on", True))
            return {}
        if fault == "unschedulable":
            if args.get("on", True):
                kubelet.schedulable.clear()
            else:
                kubelet.schedulable.set()
            return {}
        if fault == "oom-kill":
            runtime = cluster.pod_runtime(args.get("namespace", "default"), args["name"])
            if not kubelet.oom_kill(runtime):
                raise bad_request(f'pod "{args["name"]}" has no running container to OOM-kill')
            return {}
        if fault == "drop-watches":
            return {"dropped": cluster.store.drop_watches(bool(args.get("abruptly", True)))}
        if fault == "compact":
            return {"resourceVersion": str(cluster.store.compact())}
        if fault == "outage":
            await self.begin_outage(args.get("mode", "refuse"), args.get("seconds"))
            return {}
        if fault == "end-outage":
            await self.end_outage()
            return {}
        if fault == "delete-pod":
            return cluster.delete_pod(
                args.get("namespace", "default"), args["name"], args.get("gracePeriodSeconds", 0)
            )
        raise not_found("faults", fault)

    async def end_outage(self) -> None:
        if self._outage_end is not None:
            self._outage_end.cancel()
            self._outage_end = None
        self.outage.active = False
        if self.site is None:
            await self._listen()


def _add_admin_routes(app: web.Application, server: ApiServer) -> None:
    """Fault injection over HTTP, for a stand-in started as its own process."""

    async def handle(request: web.Request) -> web.Response:
        args = await request.json() if request.can_read_body else {}
        try:
            return web.json_response(await server.inject(request.match_info["fault"], args))
        except KeyError as exc:
            return web.json_response(bad_request(f"missing argument {exc}").body(), status=400)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.code)

    app.router.add_post("/_standin/{fault}", handle)
