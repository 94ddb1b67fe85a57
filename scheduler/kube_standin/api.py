"""The Kubernetes REST API of the stand-in, on aiohttp: the paths, query parameters, status
codes and bodies the official client sends and expects for pods, pod logs, secrets and
namespaces, with watches streamed as JSON lines the way the API server streams them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from scheduler.kube_standin.cluster import Cluster
from scheduler.kube_standin.selectors import field_selector, label_selector
from scheduler.kube_standin.statuses import ApiError, bad_request, failure_status
from scheduler.kube_standin.store import END_ABRUPTLY, END_CLEANLY

CLIENT_CHECK_SECONDS = 1.0
KINDS = {"pods": "Pod", "secrets": "Secret", "namespaces": "Namespace"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Outage:
    """While `active`, every API request gets 503 (the stand-in's "answer 503" outage)."""

    def __init__(self) -> None:
        self.active = False


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error(exc: ApiError) -> web.Response:
    return _json(exc.body(), status=exc.code)


async def _body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body of the request could not be decoded as JSON: {exc}") from None


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"invalid value for {name}: {raw!r} is not an integer") from None


def build_app(cluster: Cluster, outage: Outage) -> web.Application:
    @web.middleware
    async def statuses(request: web.Request, handler: Handler) -> web.StreamResponse:
        if outage.active and not request.path.startswith("/_standin/"):
            return _json(
                failure_status(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                ),
                status=503,
            )
        try:
            return await handler(request)
        except ApiError as exc:
            return _error(exc)

    app = web.Application(middlewares=[statuses])
    routes = _Routes(cluster)
    r = app.router
    r.add_get("/version", routes.version)
    r.add_get("/api", routes.api_versions)
    r.add_get("/api/v1", routes.resources)
    r.add_get("/apis", routes.api_groups)
    r.add_get("/api/v1/namespaces", routes.list_namespaces)
    r.add_post("/api/v1/namespaces", routes.create_namespace)
    r.add_get("/api/v1/namespaces/{name}", routes.get_namespace)
    for plural in ("pods", "secrets"):
        r.add_get(f"/api/v1/{plural}", routes.lister(plural, all_namespaces=True))
        r.add_get(f"/api/v1/namespaces/{{namespace}}/{plural}", routes.lister(plural))
        r.add_get(f"/api/v1/namespaces/{{namespace}}/{plural}/{{name}}", routes.getter(plural))
        r.add_patch(f"/api/v1/namespaces/{{namespace}}/{plural}/{{name}}", routes.patcher(plural))
    r.add_post("/api/v1/namespaces/{namespace}/pods", routes.create_pod)
    r.add_delete("/api/v1/namespaces/{namespace}/pods/{name}", routes.delete_pod)
    r.add_get("/api/v1/namespaces/{namespace}/pods/{name}/log", routes.pod_log)
    r.add_get("/api/v1/namespaces/{namespace}/pods/{name}/status", routes.getter("pods"))
    r.add_post("/api/v1/namespaces/{namespace}/secrets", routes.create_secret)
    r.add_delete("/api/v1/namespaces/{namespace}/secrets/{name}", routes.delete_secret)
    return app


class _Routes:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    # --- discovery ---------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return _json(
            {
                "major": "1",
                "minor": "31",
                "gitVersion": "v1.31.0-standin",
                "platform": "linux/amd64",
            }
        )

    async def api_versions(self, request: web.Request) -> web.Response:
        return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})

    async def api_groups(self, request: web.Request) -> web.Response:
        # Only the core group exists here; kubectl's discovery needs this (empty) list.
        return _json({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})

    async def resources(self, request: web.Request) -> web.Response:
        short_names = {"namespaces": ["ns"], "pods": ["po"]}

        def resource(name: str, kind: str, namespaced: bool, verbs: list[str]) -> dict[str, Any]:
            return {
                "name": name,
                "singularName": "" if "/" in name else kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": verbs,
                "shortNames": short_names.get(name, []),
            }

        return _json(
            {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [
                    resource("namespaces", "Namespace", False, ["create", "get", "list", "watch"]),
                    resource(
                        "pods", "Pod", True, ["create", "delete", "get", "list", "patch", "watch"]
                    ),
                    resource("pods/log", "Pod", True, ["get"]),
                    resource(
                        "secrets",
                        "Secret",
                        True,
                        ["create", "delete", "get", "list", "patch", "watch"],
                    ),
                ],
            }
        )

    # --- namespaces --------------------------------------------------------------------------
    async def list_namespaces(self, request: web.Request) -> web.StreamResponse:
        return await self._list_or_watch(request, "namespaces", None)

    async def create_namespace(self, request: web.Request) -> web.Response:
        return _json(self.cluster.create_namespace(await _body(request)), status=201)

    async def get_namespace(self, request: web.Request) -> web.Response:
        return _json(self.cluster.get("namespaces", "", request.match_info["name"]))

    # --- generic reads and patches -----------------------------------------------------------
    def lister(self, plural: str, all_namespaces: bool = False) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            namespace = None if all_namespaces else request.match_info["namespace"]
            return await self._list_or_watch(request, plural, namespace)

        return handle

    def getter(self, plural: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            m = request.match_info
            return _json(self.cluster.get(plural, m["namespace"], m["name"]))

        return handle

    def patcher(self, plural: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            m = request.match_info
            content_type = request.headers.get("Content-Type", "")
            patched = self.cluster.patch(
                plural, m["namespace"], m["name"], content_type, await _body(request)
            )
            return _json(patched)

        return handle

    async def _list_or_watch(
        self, request: web.Request, plural: str, namespace: str | None
    ) -> web.StreamResponse:
        labels = label_selector(request.query.get("labelSelector"))
        fields = field_selector(request.query.get("fieldSelector"), plural)

        def matches(obj: dict[str, Any]) -> bool:
            return labels(obj) and fields(obj)

        if _flag(request, "watch"):
            if namespace:
                self.cluster.list(plural, namespace, matches)  # 404 for a missing namespace
            return await self._watch(request, plural, namespace, matches)
        items = self.cluster.list(plural, namespace, matches)
        metadata: dict[str, Any] = {"resourceVersion": str(self.cluster.store.resource_version)}
        if token := request.query.get("continue"):
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(token)))
            except ValueError:
                raise ApiError(
                    410,
                    "Expired",
                    "the provided continue parameter is too old to display a consistent list result",
                ) from None
            items = [
                o
                for o in items
                if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after
            ]
        limit = _int(request, "limit")
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            metadata["continue"] = base64.urlsafe_b64encode(
                json.dumps([last.get("namespace", ""), last["name"]]).encode()
            ).decode()
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return _json(
            {
                "kind": KINDS[plural] + "List",
                "apiVersion": "v1",
                "metadata": metadata,
                "items": items,
            }
        )

    async def _watch(
        self, request: web.Request, plural: str, namespace: str | None, matches: Any
    ) -> web.StreamResponse:
        opened = self.cluster.store.watch(
            plural, namespace, matches, request.query.get("resourceVersion")
        )
        timeout = _int(request, "timeoutSeconds")
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if isinstance(opened, dict):
            # As the API server: 200, then one ERROR event carrying the 410 Status, then the end.
            await response.write(json.dumps({"type": "ERROR", "object": opened}).encode() + b"\n")
            await response.write_eof()
            return response
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                # Wake now and then to notice a client that went away from a quiet watch
                # (aiohttp does not cancel the handler), so its watcher does not linger.
                wait = (
                    CLIENT_CHECK_SECONDS
                    if remaining is None
                    else min(remaining, CLIENT_CHECK_SECONDS)
                )
                try:
                    item = await asyncio.wait_for(opened.queue.get(), wait)
                except TimeoutError:
                    if request.transport is None or request.transport.is_closing():
                        return response
                    continue
                if item == END_CLEANLY:
                    break
                if item == END_ABRUPTLY:
                    if request.transport is not None:
                        request.transport.abort()
                    return response
                await response.write(json.dumps(item).encode() + b"\n")
        except ConnectionResetError:
            return response  # the client went away (its watch stopped)
        finally:
            self.cluster.store.close_watch(opened)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    # --- pods --------------------------------------------------------------------------------
    async def create_pod(self, request: web.Request) -> web.Response:
        pod = self.cluster.create_pod(request.match_info["namespace"], await _body(request))
        return _json(pod, status=201)

    async def delete_pod(self, request: web.Request) -> web.Response:
        m = request.match_info
        options = await _delete_options(request)
        grace = options.get("gracePeriodSeconds")
        return _json(
            self.cluster.delete_pod(
                m["namespace"],
                m["name"],
                None if grace is None else int(grace),
                orphan=options.get("propagationPolicy") == "Orphan",
                preconditions=options.get("preconditions") or {},
            )
        )

    async def pod_log(self, request: web.Request) -> web.StreamResponse:
        m = request.match_info
        namespace, name = m["namespace"], m["name"]
        pod = self.cluster.get("pods", namespace, name)
        container = pod["spec"]["containers"][0]["name"]
        asked = request.query.get("container")
        if asked and asked != container:
            raise bad_request(f"container {asked} is not valid for pod {name}")
        for unsupported in ("timestamps", "sinceSeconds", "sinceTime"):
            if request.query.get(unsupported) not in (None, "", "false"):
                raise bad_request(
                    f"the test stand-in does not support the log parameter {unsupported}"
                )
        if _flag(request, "previous"):
            raise bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        runtime = self.cluster.kubelet.pods.get(pod["metadata"]["uid"])
        log = runtime.log if runtime is not None else None
        if log is None:
            statuses = (pod.get("status") or {}).get("containerStatuses") or [{}]
            waiting = (statuses[0].get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason", "ContainerCreating")
            raise bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        tail = _int(request, "tailLines")
        limit = _int(request, "limitBytes")
        if not _flag(request, "follow"):
            data = bytes(log.data)
            if tail is not None:
                data = _tail(data, tail)
            if limit is not None:
                data = data[:limit]
            return web.Response(body=data, content_type="text/plain")
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = len(log.data) - len(_tail(bytes(log.data), tail)) if tail is not None else 0
        try:
            while True:
                changed = log.changed
                if sent < len(log.data):
                    chunk = bytes(log.data[sent:])
                    sent += len(chunk)
                    await response.write(chunk)
                elif log.finished:
                    break
                else:
                    await changed.wait()
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client stopped following
        return response

    # --- secrets -----------------------------------------------------------------------------
    async def create_secret(self, request: web.Request) -> web.Response:
        secret = self.cluster.create_secret(request.match_info["namespace"], await _body(request))
        return _json(secret, status=201)

    async def delete_secret(self, request: web.Request) -> web.Response:
        m = request.match_info
        options = await _delete_options(request)
        return _json(
            self.cluster.delete_secret(
                m["namespace"],
                m["name"],
                orphan=options.get("propagationPolicy") == "Orphan",
                preconditions=options.get("preconditions") or {},
            )
        )


_PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


async def _delete_options(request: web.Request) -> dict[str, Any]:
    """DeleteOptions from the body and the query, as the API server merges them. Foreground
    and Background differ only in when the owner leaves; here dependents go at once, so both
    hold. dryRun is refused (nothing here would honour it)."""
    options: dict[str, Any] = {}
    if request.can_read_body:
        body = await _body(request)
        if isinstance(body, dict):
            options.update({k: v for k, v in body.items() if v is not None})
    for name in ("gracePeriodSeconds", "propagationPolicy"):
        if request.query.get(name):
            options[name] = request.query[name]
    if options.get("dryRun") or request.query.get("dryRun"):
        raise bad_request("the test stand-in does not support dryRun")
    if options.get("orphanDependents") is not None:
        options.setdefault(
            "propagationPolicy", "Orphan" if options["orphanDependents"] else "Background"
        )
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        raise ApiError(
            422,
            "Invalid",
            f'DeleteOptions.propagationPolicy: Unsupported value: "{policy}": supported values: "Orphan", "Background", "Foreground"',
        )
    return options


def _tail(data: bytes, lines: int) -> bytes:
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])
