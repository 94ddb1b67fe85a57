"""Errors answered the way Airflow's API answers them.

- `{"detail": "<message>"}` with 400, 401, 403, 404, 409 (FastAPI's HTTPException body);
- `{"detail": [{"type", "loc", "msg", …}]}` with 422 for a request that does not validate
  (FastAPI's RequestValidationError body), malformed JSON included.

Actions raise their own exceptions (DagNotFound, RunNotFound, TriggerError …); `install()`
maps the ones every route may meet, so routes stay free of try/except boilerplate.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dagruns.actions.dags import DagNotFound
from dagruns.actions.errors import ActionRefused
from dagruns.actions.task_instances import RunNotFound
from dagruns.models.states import IllegalStateTransition


class ApiError(Exception):
    """Answered as `{"detail": detail}` with `status`."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail)


def validation_error(loc: list[str | int], msg: str, kind: str = "value_error") -> ValidationError:
    """A 422 for a rule the schema cannot express, in FastAPI's shape."""
    return ValidationError([{"type": kind, "loc": loc, "msg": msg}])


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _fastapi_error(error: dict[str, Any]) -> dict[str, Any]:
    """ninja names the body parameter inside `loc` (["body", "body", "key"]); FastAPI with an
    embedded body does not (["body", "key"]). Also drop anything not JSON."""
    loc = list(error.get("loc") or [])
    if len(loc) >= 2 and loc[0] == "body" and loc[1] == "body":
        loc = loc[:1] + loc[2:]
    out: dict[str, Any] = {
        "type": str(error.get("type", "value_error")),
        "loc": [p if isinstance(p, int) else str(p) for p in loc],
        "msg": str(error.get("msg", "")),
    }
    if "input" in error:
        out["input"] = _jsonable(error["input"])
    if isinstance(error.get("ctx"), dict):
        out["ctx"] = {str(k): _jsonable(v) for k, v in error["ctx"].items()}
    return out


def install(api: NinjaAPI) -> None:
    def detail(request: HttpRequest, status: int, body: Any) -> HttpResponse:
        response = api.create_response(request, {"detail": body}, status=status)
        if status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return detail(request, exc.status, exc.detail)

    @api.exception_handler(ValidationError)
    def _validation(request, exc: ValidationError):
        return detail(request, 422, [_fastapi_error(e) for e in exc.errors])

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        if isinstance(exc, AuthenticationError):
            return detail(request, 401, "Not authenticated")
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # ninja could not parse the body: FastAPI calls that a 422 json_invalid.
            return detail(
                request,
                422,
                [
                    {
                        "type": "json_invalid",
                        "loc": ["body", 0],
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": str(exc.__cause__).split(":")[0]},
                    }
                ],
            )
        return detail(request, exc.status_code, str(exc.message))

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc: PermissionDenied):
        return detail(request, 403, str(exc) or "Forbidden")

    @api.exception_handler(Http404)
    def _404(request, exc: Http404):
        return detail(request, 404, str(exc) or "Not Found")

    @api.exception_handler(DagNotFound)
    def _dag_not_found(request, exc: DagNotFound):
        return detail(request, 404, f"The Dag with ID: `{exc.dag_id}` was not found")

    @api.exception_handler(RunNotFound)
    def _run_not_found(request, exc: RunNotFound):
        return detail(request, 404, str(exc))

    @api.exception_handler(ActionRefused)
    def _refused(request, exc: ActionRefused):
        return detail(request, 400, str(exc))

    @api.exception_handler(IllegalStateTransition)
    def _illegal_transition(request, exc: IllegalStateTransition):
        return detail(request, 409, str(exc))
