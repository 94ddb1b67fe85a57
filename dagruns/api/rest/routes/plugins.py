"""`/plugins` and `/plugins/importErrors`: what this API server loaded from
ORCH_PLUGINS_FOLDER, and the files that failed. Viewer, as Airflow's plugins view."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from dagruns.api.rest.auth import require
from dagruns.api.rest.pagination import PageParams, maximum_limit
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.site_info import (
    PluginCollectionResponse,
    PluginImportErrorCollectionResponse,
)
from dagruns.domain.plugins import plugin_errors, plugin_info
from dagruns.domain.roles import Role

router = Router(tags=["Plugin"])


@router.get(
    "/plugins", response={200: PluginCollectionResponse, **errors()}, operation_id="get_plugins"
)
def get_plugins(request: HttpRequest, params: Query[PageParams]):
    require(request, Role.VIEWER)
    plugins = plugin_info()
    start, limit = params.offset, min(params.limit, maximum_limit())
    return {"plugins": plugins[start : start + limit], "total_entries": len(plugins)}


@router.get(
    "/plugins/importErrors",
    response={200: PluginImportErrorCollectionResponse, **errors()},
    operation_id="import_errors",
)
def import_errors(request: HttpRequest):
    require(request, Role.VIEWER)
    errors = plugin_errors()
    return {
        "import_errors": [{"source": s, "error": e} for s, e in sorted(errors.items())],
        "total_entries": len(errors),
    }
