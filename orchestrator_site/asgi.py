"""ASGI entry point: HTTP through Django (static files included, so the dashboard's assets
are served by the project itself, DEBUG or not), websockets through Channels with the
session's user (AuthMiddlewareStack) and an Origin check (the page must be this site's:
dagruns.consumers.SameOriginValidator).

On the embedded default (no Redis) the local-bus bridge starts with the app, so change events
from every process on the host reach the pages this process serves (dagruns/notify/event_listener.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
django_asgi_app = get_asgi_application()

# Imports that need Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from dagruns.consumers import SameOriginValidator  # noqa: E402
from dagruns.notify.event_listener import BridgeStarter  # noqa: E402
from dagruns.routing import websocket_urlpatterns  # noqa: E402

application = BridgeStarter(
    ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(django_asgi_app),
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
