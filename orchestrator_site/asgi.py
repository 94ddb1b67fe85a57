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

from dagruns.consumers import SameOriginValidator  # noqa: E402
from dagruns.notify.event_listener import BridgeStarter  # noqa: E402
from dagruns.routing import websocket_urlpatterns  # noqa: E402

EXECUTION_API_PREFIX = "/execution/"
# Threads serving Execution API calls at once. The calls are short and mostly wait for the
# database's write lock or the GIL, so more threads add contention, not throughput; below
# ORCH_DB_POOL_MAX_SIZE's default (15), so on PostgreSQL a thread never waits for a connection.
EXECUTION_API_THREADS = 12


class ExecutionApiSplit:
    """HTTP requests under /execution/ go to `execution`, every other one to `rest`."""

    def __init__(self, execution, rest) -> None:
        self.execution = execution
        self.rest = rest

    async def __call__(self, scope, receive, send):
        app = self.execution if scope["path"].startswith(EXECUTION_API_PREFIX) else self.rest
        await app(scope, receive, send)


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
