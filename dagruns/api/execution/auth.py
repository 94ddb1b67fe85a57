"""Bearer-token authentication of the Execution API, and the errors it answers with.

401: no token, or one that is malformed, forged, expired or of another scope.
403: a valid token whose try is over (the task instance was retried, cleared and rescheduled,
or deleted), or — checked by the routes — a token used for another task instance or run.

A running try's token ("execution" scope) opens every route. A trigger's token ("trigger"
scope, issued by the triggerer for a deferred try) opens only the read-only routes about other
DAGs' states, which authenticate with `StatesReaderAuth`: every other route refuses it with 401,
so trigger code can read but never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from dagruns.domain.tokens import SCOPE, TRIGGER_SCOPE, Claims, InvalidToken, verify_token
from dagruns.models import TaskInstance, TaskInstanceState


class ApiError(Exception):
    """An error answered as `{"detail": detail}` with `status`."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Unauthorized(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail)


class Forbidden(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(403, detail)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's claims and the task instance they speak for."""

    claims: Claims
    ti: TaskInstance

    def require_task_instance(self, ti_id: Any) -> None:
        if str(ti_id) != str(self.claims.ti_id):
            raise Forbidden("the token is for another task instance")

    def require_running(self) -> None:
        """Reading or writing data is for a live try only: a token replayed after its try
        finished (but before a new try was scheduled) is refused, too."""
        if self.ti.state != TaskInstanceState.RUNNING:
            raise Forbidden(
                f"the token's try is not running (task instance is {self.ti.state or 'none'})"
            )

    def require_reader(self) -> None:
        """Reading other DAGs' states: a running try, or the trigger of a deferred one."""
        if self.claims.scope != TRIGGER_SCOPE:
            self.require_running()
        elif self.ti.state != TaskInstanceState.DEFERRED:
            raise Forbidden(
                f"the trigger token's try is not deferred (task instance is "
                f"{self.ti.state or 'none'})"
            )


def caller_of(request: HttpRequest) -> Caller:
    """The authenticated caller of a request (ninja stores it as `request.auth`)."""
    return cast(Caller, request.auth)  # type: ignore[attr-defined]


CALLER_FIELDS = (
    "id",
    "try_number",
    "state",
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "dag_run_id",
)


class ExecutionTokenAuth(HttpBearer):
    """Verifies the token and loads its task instance; sets `request.auth` to a Caller."""

    scopes: tuple[str, ...] = (SCOPE,)

    def __call__(self, request: HttpRequest) -> Caller:
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            raise Unauthorized("missing bearer token")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        try:
            claims = verify_token(token, self.scopes)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        # Only the columns the checks and routes read: every Execution API call passes here, and
        # loading whole rows (JSON columns decoded, the run joined) was a third of the API's CPU.
        # Routes that need the run (XComs) load it lazily.
        ti = TaskInstance.objects.only(*CALLER_FIELDS).filter(pk=claims.ti_id).first()
        if ti is None:
            raise Forbidden("the token's task instance no longer exists")
        if ti.try_number != claims.try_number:
            raise Forbidden(
                f"the token is for try {claims.try_number}, the task instance is at try "
                f"{ti.try_number}"
            )
        return Caller(claims=claims, ti=ti)


class StatesReaderAuth(ExecutionTokenAuth):
    """The read-only routes about other DAGs' states also accept a trigger's token."""

    scopes = (SCOPE, TRIGGER_SCOPE)
