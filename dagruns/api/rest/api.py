"""The REST API instance, mounted at `/api/v2/` by orchestrator_site/urls.py.

`GET /api/v2/openapi.json` is the OpenAPI document; `GET /api/v2/docs` the interactive docs
(served locally, see docs.py). Operation ids are the handler names, which are Airflow's
operation ids, so generated clients (Airflow's own included) find the same method names.
Handlers are sync; under ASGI django-ninja runs them in a thread.
"""

from __future__ import annotations

from typing import Any

from django.db import DataError
from django.http import HttpRequest
from ninja import NinjaAPI, Router

from dagruns.api.rest import (
    converters,  # noqa: F401  (registers `anypath` for the routes)
    docs,
    documented,
    errors,
)
from dagruns.api.rest.auth import BearerAuth, RejectNul, SessionAuth
from dagruns.api.rest.routes import (
    assets,
    backfills,
    config,
    connections,
    dag_runs,
    dags,
    event_logs,
    logs,
    mapped_task_instances,
    monitor,
    plugins,
    pools,
    providers,
    task_instances,
    variables,
    xcoms,
)
from dagruns.api.rest.schemas.common import DagRunState, DagRunType, TaskInstanceState

NAMESPACE = "api_v2"


class RestAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return documented.apply(super().get_openapi_schema(*args, **kwargs))


api = RestAPI(
    urls_namespace=NAMESPACE,
    title="orchestrator API",
    version="2",
    description=(
        "The public REST API, in the shape of Apache Airflow 3's `/api/v2` (paths, fields, "
        "status codes, pagination). Authenticate with `Authorization: Bearer <token>` from "
        "`POST /auth/token`, or with a browser session."
    ),
    auth=[RejectNul(), BearerAuth(), SessionAuth()],
    docs=docs.LocalSwagger(NAMESPACE),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

_static = Router()


@_static.get("/docs/static/{name}", auth=None, include_in_schema=False, url_name="docs_static")
def docs_static(request: HttpRequest, name: str):
    return docs.static_file(request, name)


api.add_router("", _static)
api.add_router("", monitor.router)
api.add_router("", dags.router)
# Order matters where a literal segment shares a place with a parameter: `/dagRuns/list` and
# `/taskInstances/list` are registered before `/{dag_run_id}` and `/{task_id}`.
api.add_router("", dag_runs.router)
api.add_router("", task_instances.router)
api.add_router("", mapped_task_instances.router)
api.add_router("", logs.router)
api.add_router("", xcoms.router)
api.add_router("", variables.router)
api.add_router("", connections.router)
api.add_router("", pools.router)
api.add_router("", event_logs.router)
api.add_router("", assets.router)
api.add_router("", backfills.router)
api.add_router("", providers.router)
api.add_router("", plugins.router)
api.add_router("", config.router)

# The words each `order_by`, `update_mask`, `state` and `run_type` takes (anything else is a
# 400), published as enums so the document says what the API accepts.
for _operation, _order in [
    ("get_dags", dags.DAG_ORDER),
    ("get_dag_tags", {"name": "name"}),
    ("get_dag_runs", dag_runs.RUN_ORDER),
    ("get_task_instances", task_instances.TI_ORDER),
    ("get_mapped_task_instances", mapped_task_instances.MAPPED_ORDER),
    ("get_xcom_entries", xcoms.XCOM_ORDER),
    ("get_variables", variables.VARIABLE_ORDER),
    ("get_connections", connections.CONNECTION_ORDER),
    ("get_pools", pools.POOL_ORDER),
    ("get_import_errors", event_logs.IMPORT_ERROR_ORDER),
    ("get_event_logs", event_logs.EVENT_ORDER),
    ("get_assets", assets.ASSET_ORDER),
    ("get_asset_aliases", assets.ALIAS_ORDER),
    ("get_asset_events", assets.EVENT_ORDER),
    ("list_backfills", backfills.BACKFILL_ORDER),
]:
    documented.choices(_operation, "order_by", documented.ordering(_order))
for _operation, _fields in [
    ("patch_dag", {"is_paused"}),
    ("patch_dag_run", {"state", "note"}),
    ("patch_task_instance", {"new_state", "note"}),
    ("patch_task_instance_dry_run", {"new_state", "note"}),
    ("patch_task_instance_by_map_index", {"new_state", "note"}),
    ("patch_task_instance_dry_run_by_map_index", {"new_state", "note"}),
    ("patch_variable", variables.PATCHABLE | {"key"}),
    ("patch_connection", (set(connections.FIELD_NAMES) - {"schema_"}) | {"connection_id"}),
    ("patch_pool", pools.PATCHABLE),
]:
    documented.choices(_operation, "update_mask", sorted(_fields))
documented.choices("get_dag_runs", "state", DagRunState)
documented.choices("get_dag_runs", "run_type", DagRunType)
for _operation in ("get_task_instances", "get_mapped_task_instances"):
    documented.choices(
        _operation, "state", [*TaskInstanceState, *sorted(task_instances.NONE_STATES)]
    )

_fallback = Router()


@_fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{anypath:unmatched}",
    auth=None,
    include_in_schema=False,
)
def no_such_path(request: HttpRequest, unmatched: str):
    # Last, after every route: a URL no route takes (say, a map_index that is not a number)
    # gets the API's JSON 404, not Django's HTML page.
    return api.create_response(request, {"detail": "Not Found"}, status=404)


api.add_router("", _fallback)


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError):
    # PostgreSQL refuses some values SQLite takes (NUL characters, numbers out of range):
    # the caller sent something unstorable, which is a 400, not a server error.
    return api.create_response(
        request, {"detail": f"The database cannot take this value: {exc}".strip()}, status=400
    )


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError):
    return api.create_response(
        request, {"detail": f"A number or date is out of range: {exc}"}, status=400
    )


@api.exception_handler(ValueError)
def _value_error(request: HttpRequest, exc: ValueError):
    # Text the database driver cannot encode (a lone UTF-16 surrogate from a JSON "\ud800"):
    # refused before anything reached the database.
    if isinstance(exc, UnicodeError):
        return api.create_response(
            request,
            {"detail": [{"type": "string_unicode", "loc": ["body"], "msg": str(exc)}]},
            status=422,
        )
    raise exc
