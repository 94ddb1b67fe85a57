"""Request middleware for what people see: one secrets masker per request, and the
Content-Security-Policy header on every HTML answer.

The policy (ORCH_CSP) allows scripts, styles, images and fonts only from this site, no inline
script or style, no eval, and websockets/fetches only back to this site: a value that slipped
past escaping still could not run. The dashboard is written for it: htmx and our scripts are
served locally; base.html's htmx-config turns off htmx's injected indicator <style>, eval, script
tags in swapped content, and the settling of `style` attributes (htmx re-applies an element's
old attributes with setAttribute, an inline style the policy blocks); positions and sizes come
from data-style attributes that orchestrator.js applies through the CSSOM (which CSP does not
restrict) instead of style="…" attributes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase

from dagruns.actions.text import first_nul_field, nul_message
from dagruns.domain.masking import masking_scope

Handler = Callable[[HttpRequest], HttpResponseBase]


class MaskingScopeMiddleware:
    """Build the server's secrets masker at most once per request (dagruns.domain.masking)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with masking_scope():
            return self.get_response(request)


class RejectNulMiddleware:
    """Refuse a page request whose path, query or form fields hold a NUL character with a 400
    naming the field (the REST and Execution APIs answer such requests themselves).

    Without it a NUL in a run id or a note reaches PostgreSQL, which cannot store it: a 500.
    """

    API_PREFIXES = ("/api/", "/execution/")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(self.API_PREFIXES):
            field = "path" if "\x00" in request.path else None
            if field is None:
                sources = [request.GET]
                # Admin forms answer a NUL with an error on its field (every form field
                # refuses it, in our wording: dagruns.admin.RefusesNul); other pages' forms
                # are refused here, before any view reaches the database with it.
                if (
                    request.method == "POST"
                    and not request.path.startswith("/admin/")
                    and request.content_type
                    in (
                        "application/x-www-form-urlencoded",
                        "multipart/form-data",
                    )
                ):
                    sources.append(request.POST)
                field = first_nul_field(*sources)
            if field is not None:
                return HttpResponseBadRequest(
                    nul_message(field), content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Add ORCH_CSP to HTML answers that do not set a policy of their own."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        policy = settings.ORCH.csp
        if not policy or "Content-Security-Policy" in response:
            return response
        if response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = policy
        return response
