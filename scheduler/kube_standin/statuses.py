"""Errors the stand-in answers with, shaped like the real API server's `Status` objects.

The official client turns a non-2xx answer into `ApiException(status, reason)` and keeps the
body; callers (our executor) read `.status` and sometimes the body's `reason`, so both must
match what a real cluster sends.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API answer that is not a success: carries the HTTP code and the Status body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        kind: str = "",
        name: str = "",
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.kind = kind
        self.name = name
        self.causes = causes or []

    def body(self) -> dict[str, Any]:
        return failure_status(
            self.code, self.reason, self.message, kind=self.kind, name=self.name, causes=self.causes
        )


def failure_status(
    code: int,
    reason: str,
    message: str,
    *,
    kind: str = "",
    name: str = "",
    causes: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if kind:
        details["kind"] = kind
    if causes:
        details["causes"] = causes
    if details:
        status["details"] = details
    return status


def not_found(plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{plural} "{name}" not found', kind=plural, name=name)


def already_exists(plural: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{plural} "{name}" already exists', kind=plural, name=name
    )


def conflict(plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        kind=plural,
        name=name,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(kind: str, name: str, field: str, cause_reason: str, detail: str) -> ApiError:
    """422 Invalid, with the message naming the field exactly as the API server does."""
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field}: {detail}',
        kind=kind,
        name=name,
        causes=[{"reason": cause_reason, "message": detail, "field": field}],
    )


def expired(requested: int, oldest: int) -> dict[str, Any]:
    """The watch ERROR event's object for a resourceVersion older than the kept history."""
    return failure_status(410, "Expired", f"too old resource version: {requested} ({oldest})")
