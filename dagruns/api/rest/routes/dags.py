"""`/dags`, `/dags/{dag_id}`, `/dags/{dag_id}/details`, `/dagSources/{dag_id}`, `/dagTags`."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from dagruns.actions.dag_delete import DagHasRunningTasks, do_delete_dag
from dagruns.actions.dags import DagNotFound, do_set_paused, get_dag_or_raise
from dagruns.actions.favorites import do_set_favorite, is_favorite
from dagruns.api.rest import present
from dagruns.api.rest.auth import actor, caller, require
from dagruns.api.rest.errors import ApiError, conflict, not_found
from dagruns.api.rest.pagination import ListParams, UpdateMask, order, page, pattern_filter
from dagruns.api.rest.schemas.common import DbInt, HTTPExceptionResponse, errors
from dagruns.api.rest.schemas.dags import (
    DAGCollectionResponse,
    DAGDetailsResponse,
    DAGPatchBody,
    DAGResponse,
    DAGSourceResponse,
    DAGTagCollectionResponse,
)
from dagruns.domain.dag_filters import filter_tags
from dagruns.domain.roles import Role
from dagruns.models import DagFavorite, DagModel, DagRun, DagTag, DagVersion
from dagruns.models.states import DAGRUN_ACTIVE

router = Router(tags=["DAG"])

DAG_ORDER = {
    "dag_id": "dag_id",
    "dag_display_name": "dag_display_name",
    "next_dagrun": "next_dagrun",
    "is_paused": "is_paused",
    "last_parsed_time": "last_parsed_time",
    "fileloc": "fileloc",
}


class DagFilters(Schema):
    limit: int = Field(50, ge=0)
    offset: int = Field(0, ge=0)
    tags: list[str] = Field(default_factory=list)
    tags_match_mode: str | None = Field(None, json_schema_extra={"enum": ["any", "all"]})
    owners: list[str] = Field(default_factory=list)
    dag_id_pattern: str | None = None
    dag_display_name_pattern: str | None = None
    # Airflow 3.0 says only_active (default true); later 3.x say exclude_stale. Both work.
    only_active: bool = True
    exclude_stale: bool = True
    paused: bool | None = None
    has_import_errors: bool | None = None
    # Airflow 3.1: only the caller's favourite DAGs (true) or only the others (false).
    is_favorite: bool | None = None
    order_by: list[str] = Field(default_factory=list)


def _dag_queryset():
    return DagModel.objects.prefetch_related("tags")


@router.get("/dags", response={200: DAGCollectionResponse, **errors(400)}, operation_id="get_dags")
def get_dags(request: HttpRequest, filters: Query[DagFilters]):
    """Get all DAGs."""
    require(request, Role.VIEWER)
    if filters.tags_match_mode not in (None, "any", "all"):
        raise ApiError(400, "tags_match_mode must be 'any' or 'all'")
    dags = _dag_queryset()
    if filters.only_active and filters.exclude_stale:
        dags = dags.filter(is_active=True)
    if filters.paused is not None:
        dags = dags.filter(is_paused=filters.paused)
    if filters.has_import_errors is not None:
        dags = dags.filter(has_import_errors=filters.has_import_errors)
    dags = dags.filter(pattern_filter("dag_id", filters.dag_id_pattern, "dag_id_pattern"))
    dags = dags.filter(
        pattern_filter(
            "dag_display_name", filters.dag_display_name_pattern, "dag_display_name_pattern"
        )
    )
    dags = filter_tags(dags, filters.tags, filters.tags_match_mode)
    if filters.is_favorite is not None:
        starred = DagFavorite.objects.filter(user=caller(request)).values("dag_id")
        dags = (
            dags.filter(dag_id__in=starred)
            if filters.is_favorite
            else dags.exclude(dag_id__in=starred)
        )
    if filters.owners:
        owners = Q()
        for owner in filters.owners:
            owners |= Q(owners__icontains=owner)
        dags = dags.filter(owners)
    dags = order(dags, filters.order_by, DAG_ORDER, default="dag_id")
    rows, total = page(dags, filters.limit, filters.offset)
    return {"dags": [present.dag(d) for d in rows], "total_entries": total}


def _get_dag(dag_id: str) -> DagModel:
    dag = _dag_queryset().filter(dag_id=dag_id).first()
    if dag is None:
        raise not_found(f"Dag with id {dag_id} was not found")
    return dag


@router.get(
    "/dags/{dag_id}", response={200: DAGResponse, **errors(400, 404)}, operation_id="get_dag"
)
def get_dag(request: HttpRequest, dag_id: str):
    """Get basic information about a DAG."""
    require(request, Role.VIEWER)
    return present.dag(_get_dag(dag_id))


@router.get(
    "/dags/{dag_id}/details",
    response={200: DAGDetailsResponse, **errors(400, 404)},
    operation_id="get_dag_details",
)
def get_dag_details(request: HttpRequest, dag_id: str):
    """Get details of a DAG: its latest version's settings as the processor serialized them."""
    require(request, Role.VIEWER)
    dag = _get_dag(dag_id)
    version = dag.latest_version()
    active = DagRun.objects.filter(dag_id=dag_id, state__in=DAGRUN_ACTIVE).count()
    details = present.dag_details(dag, version, active)
    details["is_favorite"] = is_favorite(dag_id, caller(request))
    return details


@router.patch(
    "/dags/{dag_id}", response={200: DAGResponse, **errors(400, 404)}, operation_id="patch_dag"
)
def patch_dag(
    request: HttpRequest,
    dag_id: str,
    body: DAGPatchBody,
    mask: Query[UpdateMask],
):
    """Pause or unpause a DAG."""
    require(request, Role.USER)
    if mask.update_mask and set(mask.update_mask) - {"is_paused"}:
        raise ApiError(400, "Only `is_paused` field can be updated through the REST API")
    get_dag_or_raise(dag_id)
    if not mask.update_mask or "is_paused" in mask.update_mask:
        do_set_paused(dag_id, body.is_paused, actor(request))
    return present.dag(_get_dag(dag_id))


@router.delete(
    "/dags/{dag_id}", response={204: None, **errors(400, 404, 409)}, operation_id="delete_dag"
)
def delete_dag(request: HttpRequest, dag_id: str):
    """Delete a DAG's metadata (runs, task instances, XComs, versions); the audit log stays."""
    require(request, Role.USER)
    try:
        do_delete_dag(dag_id, actor(request))
    except DagHasRunningTasks as exc:
        raise conflict(str(exc)) from None
    return Status(204, None)


@router.post(
    "/dags/{dag_id}/favorite",
    response={204: None, **errors(400, 404, 409)},
    operation_id="favorite_dag",
)
def favorite_dag(request: HttpRequest, dag_id: str):
    """Mark the DAG as favorite for the caller (Airflow 3.1); 409 when it already is one, as
    Airflow's unique constraint answers."""
    return _set_favorite(request, dag_id, True, "Dag is already marked as favorite")


@router.post(
    "/dags/{dag_id}/unfavorite",
    response={204: None, **errors(400, 404, 409)},
    operation_id="unfavorite_dag",
)
def unfavorite_dag(request: HttpRequest, dag_id: str):
    """Unmark the DAG as favorite; 409 when it was not one (as Airflow 3.1)."""
    return _set_favorite(request, dag_id, False, "Dag is not marked as favorite")


def _set_favorite(request: HttpRequest, dag_id: str, favorite: bool, unchanged: str) -> Status:
    require(request, Role.VIEWER)
    try:
        changed = do_set_favorite(dag_id, favorite, actor(request))
    except DagNotFound:
        raise not_found(f"DAG with id '{dag_id}' not found") from None
    if not changed:
        raise conflict(unchanged)
    return Status(204, None)


SOURCE_RESPONSES = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}


@router.get(
    "/dagSources/{dag_id}",
    response={200: DAGSourceResponse, 406: HTTPExceptionResponse, **errors(400, 404)},
    operation_id="get_dag_source",
    tags=["DagSource"],
    openapi_extra={"responses": SOURCE_RESPONSES},
)
def get_dag_source(request: HttpRequest, dag_id: str, version_number: DbInt | None = None):
    """The DAG file's source code, of its latest version or of `version_number`."""
    require(request, Role.VIEWER)
    dag = get_dag_or_raise(dag_id)
    versions = DagVersion.objects.filter(dag_id=dag_id)
    if version_number is not None:
        version = versions.filter(version_number=version_number).first()
    else:
        version = versions.order_by("-version_number").first()
    if version is None:
        raise not_found(
            f"The source code of Dag {dag_id}, version_number {version_number} was not found"
        )
    accept = request.headers.get("Accept", "application/json")
    if "text/plain" in accept and "application/json" not in accept:
        return HttpResponse(version.source_code, content_type="text/plain; charset=utf-8")
    if accept.strip() and not any(
        k in accept for k in ("application/json", "*/*", "application/*")
    ):
        raise ApiError(406, "Content not available for Accept header")
    return {
        "content": version.source_code,
        "dag_id": dag_id,
        "version_number": version.version_number,
        "dag_display_name": dag.dag_display_name or dag_id,
    }


@router.get(
    "/dagTags",
    response={200: DAGTagCollectionResponse, **errors(400)},
    operation_id="get_dag_tags",
)
def get_dag_tags(
    request: HttpRequest,
    params: Query[ListParams],
    tag_name_pattern: str | None = None,
):
    """All distinct tag names."""
    require(request, Role.VIEWER)
    names = (
        DagTag.objects.filter(pattern_filter("name", tag_name_pattern, "tag_name_pattern"))
        .values_list("name", flat=True)
        .distinct()
    )
    names = order(names, params.order_by, {"name": "name"}, default="name", tiebreak="name")
    rows, total = page(names, params.limit, params.offset)
    return {"tags": list(rows), "total_entries": total}
