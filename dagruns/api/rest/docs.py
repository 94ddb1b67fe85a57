"""Interactive API docs served entirely from this server: Swagger UI's files come from the
copy bundled in django-ninja's wheel (read from its package directory, so `ninja` need not be
an installed app or collected into STATIC_ROOT), and the page names no other host. Swagger's
online validator badge (validator.swagger.io) is switched off for the same reason."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape
from ninja.openapi.docs import DocsBase

STATIC_DIR = Path(ninja.__file__).parent / "static" / "ninja"
STATIC_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js", "favicon.svg", "favicon.png"}
)

PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{title}</title>
<link type="text/css" rel="stylesheet" href="{static}swagger-ui.css">
<link rel="icon" href="{static}favicon.svg" type="image/svg+xml">
</head>
<body data-csrf-token="{csrf}" data-api-csrf="true">
<script type="application/json" id="swagger-settings">{settings}</script>
<div id="swagger-ui"></div>
<script src="{static}swagger-ui-bundle.js"></script>
<script src="{static}swagger-ui-init.js"></script>
</body>
</html>
"""


class LocalSwagger(DocsBase):
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        static = reverse(f"{self.namespace}:docs_static", kwargs={"name": "x"})[:-1]
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
            "persistAuthorization": True,
        }
        # "</" cannot end the JSON island early: json.dumps escapes nothing of the kind.
        settings_json = json.dumps(settings).replace("</", "<\\/")
        html = PAGE.format(
            title=escape(api.title),
            static=static,
            csrf=escape(get_token(request)),
            settings=settings_json,
        )
        return HttpResponse(html)


def static_file(request: HttpRequest, name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise Http404("no such file")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((STATIC_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
