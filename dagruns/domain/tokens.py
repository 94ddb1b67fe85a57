"""Signed, expiring tokens that let one try of one task instance call the Execution API.

A JWT (HS256) with the claims `sub` (task-instance id), `try` (try number), `scope`, `iat` and
`exp`. Two scopes: "execution", the running try's token (the whole Execution API), and
"trigger", which the triggerer gives the trigger of a deferred try (ExternalTaskSensor's and
TriggerDagRunOperator's triggers): it reads other DAGs' states and nothing else, only while that
try is deferred (dagruns/api/execution/auth.py). The key is derived from SECRET_KEY with a purpose string, so a
token of this API can never be mistaken for any other signed value of the project (sessions,
Fernet-encrypted secrets, REST API tokens).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings

SCOPE = "execution"
TRIGGER_SCOPE = "trigger"
ALGORITHM = "HS256"
_KEY_PURPOSE = b"orchestrator-execution-api-token:"
_REQUIRED_CLAIMS = ["sub", "try", "scope", "iat", "exp"]


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or not an Execution API token (401)."""


@dataclass(frozen=True)
class Claims:
    ti_id: uuid.UUID
    try_number: int
    issued_at: int
    expires_at: int
    scope: str = SCOPE

    @property
    def lifetime(self) -> int:
        return self.expires_at - self.issued_at

    def remaining(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def needs_refresh(self, now: float | None = None) -> bool:
        """True once less than half the lifetime is left (Airflow 3 re-issues at that point),
        so a runner that heartbeats every few seconds is never cut off."""
        return self.remaining(now) < self.lifetime / 2


def _key() -> bytes:
    return hashlib.sha256(_KEY_PURPOSE + settings.SECRET_KEY.encode()).digest()


def issue_token(
    ti_id: uuid.UUID | str, try_number: int, ttl: float | None = None, *, scope: str = SCOPE
) -> str:
    """A token for try `try_number` of task instance `ti_id`, valid for `ttl` seconds
    (default ORCH_EXECUTION_API_TOKEN_TTL). The scheduler calls this when it queues a try; the
    triggerer, with `scope=TRIGGER_SCOPE`, when it starts a deferred try's trigger."""
    if ttl is None:
        ttl = settings.ORCH.execution_api_token_ttl
    now = int(time.time())
    payload = {
        "sub": str(uuid.UUID(str(ti_id))),
        "try": int(try_number),
        "scope": scope,
        "iat": now,
        "exp": now + max(1, round(ttl)),
    }
    return jwt.encode(payload, _key(), algorithm=ALGORITHM)


def refreshed_token(claims: Claims) -> str:
    """A fresh token for the same try, with the configured lifetime."""
    return issue_token(claims.ti_id, claims.try_number)


def verify_token(token: str, scopes: tuple[str, ...] = (SCOPE,)) -> Claims:
    """The claims of a valid token of one of `scopes`; raises InvalidToken otherwise."""
    try:
        payload = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            # `iat` is only the start of the lifetime: a scheduler whose clock runs a second
            # ahead of the API server's must not have its fresh tokens refused as "not yet
            # valid". Expiry is what bounds a token.
            options={"require": _REQUIRED_CLAIMS, "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if payload["scope"] not in scopes:
        if payload["scope"] == TRIGGER_SCOPE:
            raise InvalidToken("a trigger's token may only read other DAGs' states")
        raise InvalidToken("token is not scoped to the Execution API")
    try:
        ti_id = uuid.UUID(str(payload["sub"]))
    except ValueError:
        raise InvalidToken("invalid token: sub is not a task-instance id") from None
    try_number = payload["try"]
    if not isinstance(try_number, int) or isinstance(try_number, bool) or try_number < 0:
        raise InvalidToken("invalid token: try is not a try number")
    return Claims(
        ti_id=ti_id,
        try_number=try_number,
        issued_at=int(payload["iat"]),
        expires_at=int(payload["exp"]),
        scope=payload["scope"],
    )
