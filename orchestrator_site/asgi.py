"""ASGI entry point: HTTP through Django (static files included, so the dashboard's assets
are served by the project itself, DEBUG or not), websockets through Channels with the
session's user (AuthMiddlewareStack) and an Origin check (the page must be this site's:
dagruns.consumers.SameOriginValidator).

The Execution API (`/execution/…`, every task's claim, heartbeats, logs and end) runs Django's
WSGI handler on a fixed pool of threads instead. Django's ASGI handler gives every request a
thread of its own, and a database connection belongs to its thread: each call opened a new
connection (on SQLite with its PRAGMAs) and started a thread, a third of the call's CPU, and
under load more calls in flight meant more threads contending for the GIL. Pool threads keep
their connections (ORCH_DB_CONN_MAX_AGE, or PostgreSQL's pool) from call to call.

On the embedded default (no Redis) the local-bus bridge starts with the app, so change events
from every process on the host reach the pages this process serves (dagruns/notify/event_listener.py).
"""

import json
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
django_asgi_app = get_asgi_application()

# Imports that need Django set up first.
from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from dagruns.api.body_size import BodyLimit, limit_for_path  # noqa: E402
from dagruns.consumers import SameOriginValidator  # noqa: E402
from dagruns.notify.event_listener import BridgeStarter  # noqa: E402
from dagruns.routing import websocket_urlpatterns  # noqa: E402

EXECUTION_API_PREFIX = "/execution/"
# Threads serving Execution API calls at once. The calls are short and mostly wait for the
# database's write lock or the GIL, so more threads add contention, not throughput; below
# ORCH_DB_POOL_MAX_SIZE's default (15), so on PostgreSQL a thread never waits for a connection.
EXECUTION_API_THREADS = 8


class ExecutionApiSplit:
    """HTTP requests under /execution/ go to `execution`, every other one to `rest`.

    An Execution API request's body is read here, on the event loop, before a pool thread
    takes the request (as Django's ASGI handler reads it before taking a thread): a client
    sending its body slowly, or never, holds no thread, so it cannot stall other tasks' calls.
    Read up to the API's body limit (dagruns/api/body_size.py), then the request goes on with
    its real length (a chunked body, which announced none, included)."""

    def __init__(self, execution, rest) -> None:
        self.execution = execution
        self.rest = rest

    async def __call__(self, scope, receive, send):
        if not scope["path"].startswith(EXECUTION_API_PREFIX):
            await self.rest(scope, receive, send)
            return
        limit = limit_for_path(scope["path"], scope["method"])
        headers = dict(scope["headers"])
        try:
            announced = int(headers.get(b"content-length", b""))
        except ValueError:
            announced = None
        if limit is not None and announced is not None and announced > limit.max_bytes:
            # Refused by the body-size middleware before anything is read.
            await self.execution(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if limit is not None and len(body) > limit.max_bytes:
                await _too_large(send, limit)
                return
            if not message.get("more_body", False):
                break
        framing = (b"content-length", b"transfer-encoding")
        scope = {
            **scope,
            "headers": [
                *((name, value) for name, value in scope["headers"] if name not in framing),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        pending = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.execution(scope, replay, send)


async def _too_large(send, limit: BodyLimit) -> None:
    payload = json.dumps({"detail": limit.message(None)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


application = BridgeStarter(
    ProtocolTypeRouter(
        {
            # (Django's stubs type the handler's response as HttpResponseBase, an iterable of bytes.)
            "http": ExecutionApiSplit(
                WSGIMiddleware(WSGIHandler(), workers=EXECUTION_API_THREADS),  # type: ignore[arg-type]
                ASGIStaticFilesHandler(django_asgi_app),
            ),
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
