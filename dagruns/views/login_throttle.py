"""Login throttling for `/login/`, `/auth/token` (and the admin's login) with django-axes.

After ORCH_LOGIN_FAILURE_LIMIT failed attempts for one username, or from one address, within
ORCH_LOGIN_COOLOFF seconds, that username (whoever tries it) and that address (whatever
username it tries) are refused with a 429 until the cool-off has passed: JSON for
`/auth/token`, a page saying so for the login forms. The attempt that reaches the limit is
already answered 429. A success resets the counts of that username and address.

No user enumeration: a username that does not exist fails, counts and locks exactly like a
wrong password (the same 401 / the same form error, then the same 429).

Every failed attempt and every refusal is an AuditEvent (`login_failed`,
`login_locked_out`) with the address and the path in `extra`.

Axes reads its settings at call time through the functions below, so ORCH_* changes (and
tests) apply at once. Wired in settings.py: AUTHENTICATION_BACKENDS, MIDDLEWARE, AXES_*.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from dagruns.actions.audit import Actor, record

TOKEN_PATH = "/auth/token"


def failure_limit(request: HttpRequest | None = None, credentials: Any = None) -> int:
    """AXES_FAILURE_LIMIT: ORCH_LOGIN_FAILURE_LIMIT, read at each attempt."""
    return settings.ORCH.login_failure_limit


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: ORCH_LOGIN_COOLOFF seconds, read at each attempt."""
    return timedelta(seconds=settings.ORCH.login_cooloff)


class ThrottledLoginBackend(AxesStandaloneBackend):
    """Axes' lockout check, for sign-ins over HTTP. `authenticate()` without a request (the
    `users` command checking a password on the server's own console) is not throttled:
    there is no address to count, and no remote caller."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def _message(request: HttpRequest) -> str:
    seconds = int(cool_off(request).total_seconds())
    return (
        f"Too many failed login attempts (ORCH_LOGIN_FAILURE_LIMIT={failure_limit(request)}) "
        f"for this username or from this address: try again in {seconds} seconds "
        f"(ORCH_LOGIN_COOLOFF)."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the 429, as JSON for the token endpoint, as a page elsewhere."""
    retry_after = str(int(cool_off(request).total_seconds()))
    response: HttpResponse
    if request.path_info.startswith(TOKEN_PATH):
        response = JsonResponse({"detail": _message(request)}, status=429)
    else:
        response = render(
            request, "registration/locked_out.html", {"message": _message(request)}, status=429
        )
    response["Retry-After"] = retry_after
    return response


def _where(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    return {
        "ip_address": str(
            getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
        ),
        "path": request.path_info,
    }


@receiver(user_login_failed, dispatch_uid="orchestrator.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    username = str(credentials.get("username") or "")[:150]
    record(Actor(name=username or "anonymous"), "login_failed", extra=_where(request))


@receiver(user_locked_out, dispatch_uid="orchestrator.audit_login_locked_out")
def audit_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    name = str(username or "")[:150]
    record(Actor(name=name or "anonymous"), "login_locked_out", extra=_where(request))
