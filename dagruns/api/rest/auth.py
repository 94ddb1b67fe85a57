"""Who is calling the REST API, and may they?

Two ways in, checked in this order:
- `Authorization: Bearer <JWT>` issued by `POST /auth/token` (HS256, signed with a key derived
  from SECRET_KEY under a purpose string of its own, so it can never pass for an Execution API
  token or any other signed value; lifetime ORCH_API_TOKEN_TTL, default one day). The token
  also carries a digest of the user's password hash: changing the password revokes it.
- the browser's Django session (with Django's CSRF check on unsafe methods), so the UI's own
  pages can call the API.

401 means "we don't know who you are" (no credentials, or a malformed, forged or expired
token, or a deleted/inactive user). 403 means "we know, and you may not": a valid caller whose
role (dagruns.domain.roles, the same check the UI makes) is too low, or a failed CSRF check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, cast

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from dagruns.actions.audit import Actor
from dagruns.actions.text import NUL_MESSAGE, first_nul_field
from dagruns.api.rest.errors import ApiError
from dagruns.domain.roles import Role, has_role

ALGORITHM = "HS256"
SCOPE = "rest_api"
_KEY_PURPOSE = b"orchestrator-rest-api-token:"
_REQUIRED_CLAIMS = ["sub", "scope", "iat", "exp", "pwd"]
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthorized(ApiError):
    def __init__(self, detail: str = "Not authenticated") -> None:
        super().__init__(401, detail)


class Forbidden(ApiError):
    def __init__(self, detail: str = "Forbidden") -> None:
        super().__init__(403, detail)


def _key() -> bytes:
    return hashlib.sha256(_KEY_PURPOSE + settings.SECRET_KEY.encode()).digest()


def _password_digest(user) -> str:
    # Bound to the current password hash: a password change (or set_unusable_password) makes
    # every token issued before it invalid, as Django does with sessions.
    return hmac.new(_key(), user.password.encode(), hashlib.sha256).hexdigest()[:32]


def token_ttl() -> float:
    return settings.ORCH.api_token_ttl


def issue_token(user, ttl: float | None = None) -> str:
    """An access token for `user`, valid for `ttl` seconds (default ORCH_API_TOKEN_TTL)."""
    now = int(time.time())
    lifetime = token_ttl() if ttl is None else ttl
    payload = {
        "sub": str(user.pk),
        "username": user.get_username(),
        "scope": SCOPE,
        "iat": now,
        "exp": now + max(1, round(lifetime)),
        "pwd": _password_digest(user),
    }
    return jwt.encode(payload, _key(), algorithm=ALGORITHM)


def user_for_token(token: str):
    """The active user a valid token speaks for; raises Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            options={"require": _REQUIRED_CLAIMS, "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("Invalid JWT token") from None
    if claims.get("scope") != SCOPE:
        raise Unauthorized("Invalid JWT token")
    user = get_user_model().objects.filter(pk=str(claims["sub"]), is_active=True).first()
    if user is None or not hmac.compare_digest(str(claims["pwd"]), _password_digest(user)):
        raise Unauthorized("Invalid JWT token")
    return user


class RejectNul:
    """Not an authentication: a guard that runs first for every authenticated operation.

    PostgreSQL stores no NUL character in text or JSON (SQLite does): a request carrying one,
    in its path, query or body, would fail in the database, and inside a transaction poison
    it. It is refused up front with a 422, the same on both databases. Returns None so the
    real authentications run next."""

    def __call__(self, request: HttpRequest) -> None:
        where = None
        if "\x00" in request.path:
            where = "path"
        elif first_nul_field(request.GET) is not None:
            where = "query"
        elif request.method in _UNSAFE_METHODS and (
            b"\x00" in request.body or b"\\u0000" in request.body
        ):
            where = "body"
        if where is not None:
            raise NulCharacter(where)
        return None


class NulCharacter(ApiError):
    def __init__(self, where: str) -> None:
        super().__init__(
            422,
            [
                {
                    "type": "string_contains_nul",
                    "loc": [where],
                    "msg": NUL_MESSAGE,
                }
            ],
        )


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`. No header at all lets the session auth try next; a
    header that is present but wrong is a 401 at once (it would be surprising to fall back to
    a cookie when the caller clearly meant the token)."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Invalid authorization header: use 'Bearer <token>'")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session. Unlike ninja's own, an anonymous request is a plain "no"
    (so a request without any credentials gets 401, not a CSRF 403), and the CSRF check runs
    only for a signed-in user's unsafe requests."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method in _UNSAFE_METHODS and check_csrf(request) is not None:
            raise Forbidden("CSRF check failed: send the X-CSRFToken header")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None


def caller(request: HttpRequest):
    return cast(Any, request).auth


def require(request: HttpRequest, role: Role) -> None:
    """403 unless the authenticated caller has at least `role`."""
    if not has_role(caller(request), role):
        raise Forbidden(f"Forbidden: this needs the {role.group_name} role")


def actor(request: HttpRequest) -> Actor:
    return Actor(user=caller(request))
