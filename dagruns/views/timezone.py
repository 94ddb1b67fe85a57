"""The viewer's timezone on every page: chosen in the header, applied to every request.

`TimezoneMiddleware` activates the zone the browser's cookie names (dagruns/ui/timezones.py
says why a cookie) for the whole request, so every date Django or our formatting shows —
dashboard pages, fragments, the admin — is in that zone; a cookie that names no zone is ignored
(the default, UTC). `set_timezone` is the header's form: it stores a valid choice and goes
back to the page; an unknown name is refused with a message naming it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dagruns.ui import format as fmt
from dagruns.ui.timezones import (
    COOKIE_MAX_AGE,
    COOKIE_NAME,
    MAX_NAME_LENGTH,
    zone_named,
    zone_or_default,
)

Handler = Callable[[HttpRequest], HttpResponseBase]


class TimezoneMiddleware:
    """`timezone.activate()` the viewer's zone for the request (UTC when none or a bad one)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        name, zone = zone_or_default(request.COOKIES.get(COOKIE_NAME))
        request.timezone_name = name  # type: ignore[attr-defined]
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def timezone_context(request: HttpRequest) -> dict[str, str]:
    """The header's selector: the zone's name and its abbreviation now (`CET`)."""
    name, zone = zone_or_default(getattr(request, "timezone_name", None))
    return {
        "viewer_timezone": name,
        "viewer_timezone_abbr": fmt.abbreviation(timezone.now().astimezone(zone)),
    }


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_POST
def set_timezone(request: HttpRequest) -> HttpResponseBase:
    """POST `timezone` (an IANA name typed or picked from the list) or `choice` (a button:
    UTC, the browser's zone): remembered for a year, then back to the page."""
    name = (request.POST.get("choice") or request.POST.get("timezone") or "").strip()
    response = redirect(_back(request))
    if zone_named(name) is None:
        shown = name if len(name) <= MAX_NAME_LENGTH else name[:MAX_NAME_LENGTH] + "…"
        messages.error(
            request,
            f"Unknown timezone {shown!r}: give an IANA zone name such as UTC, Europe/Paris "
            "or America/New_York. The timezone was not changed.",
        )
        return response
    response.set_cookie(
        COOKIE_NAME,
        name,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,  # read by the server only: pages are rendered there
    )
    return response
