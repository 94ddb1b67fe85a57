"""The websocket behind every open dashboard page: one consumer per page.

A page connects to `/ws/dags/<dag_id>/?view=grid|graph|gantt|ti|runs` (or `/ws/dags/?view=list`
for the DAG list) and joins the Channels group its events are published to (dagruns/notify/events.py).
For each batch of events it sends
- the out-of-band HTML fragments of the grid cells / graph nodes that changed (htmx swaps
  them in place: the fast path, one round trip), then
- the events themselves as JSON, so the page refreshes whichever regions they concern.

Refused without a signed-in user with at least the Viewer role (closed before the handshake
completes: the browser sees a failed connection). Events carry only ids; what a page shows is
rendered for this user, so nothing leaks that the user could not see anyway. Fragments show
dates in the viewer's zone, the one the page was rendered in: the timezone cookie the handshake
carried (dagruns/ui/timezones.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from dagruns.domain.roles import Role, has_role
from dagruns.models import DagModel
from dagruns.notify.events import ALL_DAGS_GROUP, dag_group
from dagruns.ui import live
from dagruns.ui.timezones import COOKIE_NAME, zone_or_default

log = logging.getLogger(__name__)
DAG_LIST_KINDS = frozenset({"run", "dag"})


class SameOriginValidator(OriginValidator):
    """Refuse a websocket handshake that a page of another site started.

    A browser sends the session cookie with a handshake from any page, so without this check a
    page elsewhere could open the live socket as the signed-in user. The Origin must be this
    site: its host[:port] equal to the Host header (itself one of ALLOWED_HOSTS), or listed in
    CSRF_TRUSTED_ORIGINS (a proxy in front) — the rule Django's CSRF check applies to forms.
    channels' AllowedHostsOriginValidator is not enough: ALLOWED_HOSTS="*" (the embedded
    default) lets every origin through. A handshake with no Origin does not come from a
    browser, so no victim's cookie rides on it; it is let through to the login check.
    """

    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is None or self.same_site(
            origin.decode("latin1"), headers.get(b"host", b"").decode("latin1")
        ):
            return await self.application(scope, receive, send)
        log.warning("websocket refused: Origin %r is not this site", origin)
        return await WebsocketDenier()(scope, receive, send)

    def same_site(self, origin: str, host: str) -> bool:
        parsed = urlparse(origin)
        if parsed.hostname is None:
            return False
        host_domain, _ = split_domain_port(host.lower())
        if (
            host
            and validate_host(host_domain, settings.ALLOWED_HOSTS)
            and parsed.netloc.lower() == host.lower()
        ):
            return True
        # Read per handshake, not kept from start-up, like Django's CSRF check reads it.
        return any(
            self.match_allowed_origin(parsed, trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS
        )


@database_sync_to_async
def _may_view(user) -> bool:
    return has_role(user, Role.VIEWER)


@database_sync_to_async
def _dag_exists(dag_id: str) -> bool:
    return DagModel.objects.filter(dag_id=dag_id).exists()


class LiveConsumer(AsyncWebsocketConsumer):
    groups: list[str] = []  # joined in connect(), after the checks

    async def connect(self) -> None:
        self.group = None
        self.pending: list[dict] = []
        self.flusher: asyncio.Task | None = None
        if not await _may_view(self.scope.get("user")):
            await self.close(code=4403)
            return
        self.dag_id = self.scope["url_route"]["kwargs"].get("dag_id")
        query = parse_qs(self.scope.get("query_string", b"").decode("utf-8", "replace"))
        self.view = query.get("view", ["list" if self.dag_id is None else "grid"])[0]
        self.params = {k: v[0] for k, v in query.items() if v}
        self.zone = zone_or_default((self.scope.get("cookies") or {}).get(COOKIE_NAME))[1]
        if self.dag_id is not None and not await _dag_exists(self.dag_id):
            await self.close(code=4404)
            return
        self.group = ALL_DAGS_GROUP if self.dag_id is None else dag_group(self.dag_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.flusher and not self.flusher.done():
            self.flusher.cancel()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """Pages do not talk back; anything sent is ignored."""

    async def orch_event(self, message) -> None:
        event = message.get("event") or {}
        if self.dag_id is None and event.get("kind") not in DAG_LIST_KINDS:
            return  # the DAG list does not show task instances
        if self.dag_id is not None and event.get("dag_id") != self.dag_id:
            return
        self.pending.append(event)
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        """Events that arrive while a batch renders form the next batch (a burst of 500 task
        changes costs a handful of renders, not 500)."""
        while self.pending:
            batch = list({json.dumps(e, sort_keys=True): e for e in self.pending}.values())
            self.pending = []
            try:
                if self.dag_id is not None:
                    html = await database_sync_to_async(live.fragments_in)(
                        self.zone, self.dag_id, self.view, self.params, batch
                    )
                    if html:
                        await self.send(text_data=html)
                await self.send(text_data=json.dumps({"events": batch}))
            except Exception:  # a page must not lose its socket over one bad render
                log.exception("live update of %s failed", self.dag_id)
