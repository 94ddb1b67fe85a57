"""The Execution API instance, mounted at `/execution/` by orchestrator_site/urls.py.

Machine to machine: bearer tokens only, no sessions, no cookies, so no CSRF check applies
(ninja checks CSRF only for cookie-based auth, and marks its views csrf_exempt for Django's
middleware). Handlers are sync; django-ninja runs them in a thread under ASGI.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from dagruns.actions import tries
from dagruns.actions.assets import AssetEventRefused
from dagruns.actions.downstream_skips import SkipRefused
from dagruns.api.execution import (
    routes_assets,
    routes_dag_runs,
    routes_external_states,
    routes_secrets,
    routes_task_instances,
    routes_task_reschedules,
    routes_xcoms,
)
from dagruns.api.execution.auth import ApiError, ExecutionTokenAuth

api = NinjaAPI(
    urls_namespace="execution",
    title="orchestrator Execution API",
    version="1",
    description="How task runners talk to the server: see docs/engine.md.",
    auth=ExecutionTokenAuth(),
)
# Before the task-instance router: /task-instances/count and /states are not task ids.
api.add_router("/", routes_external_states.router)
api.add_router("/task-instances/", routes_task_instances.router)
api.add_router("/xcoms/", routes_xcoms.router)
api.add_router("/task-reschedules/", routes_task_reschedules.router)
api.add_router("/", routes_secrets.router)
api.add_router("/asset-events/", routes_assets.router)
api.add_router("/assets/", routes_assets.assets_router)
api.add_router("/dag-runs/", routes_dag_runs.router)


def _detail(request: HttpRequest, status: int, detail: object) -> HttpResponse:
    response = api.create_response(request, {"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _detail(request, exc.status, exc.detail)


@api.exception_handler(AssetEventRefused)
def _asset_event_refused(request: HttpRequest, exc: AssetEventRefused) -> HttpResponse:
    return _detail(request, 422, {"reason": "asset_event_refused", "message": str(exc)})


@api.exception_handler(SkipRefused)
def _skip_refused(request: HttpRequest, exc: SkipRefused) -> HttpResponse:
    return _detail(request, 422, {"reason": "skip_refused", "message": str(exc)})


@api.exception_handler(tries.TaskInstanceNotFound)
def _not_found(request: HttpRequest, exc: tries.TaskInstanceNotFound) -> HttpResponse:
    return _detail(request, 404, {"reason": "not_found", "message": str(exc)})


@api.exception_handler(tries.StaleTry)
def _stale_try(request: HttpRequest, exc: tries.StaleTry) -> HttpResponse:
    return _detail(request, 403, str(exc))


@api.exception_handler(tries.InvalidTaskState)
def _invalid_state(request: HttpRequest, exc: tries.InvalidTaskState) -> HttpResponse:
    return _detail(
        request,
        409,
        {"reason": "invalid_state", "previous_state": exc.previous_state, "message": str(exc)},
    )
