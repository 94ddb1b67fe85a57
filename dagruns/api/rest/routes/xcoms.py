"""`…/taskInstances/{task_id}/xcomEntries[/{xcom_key}]`: read XComs (`~` allowed for dag_id,
dag_run_id and task_id in the list, as in Airflow). Values are stored as JSON, so the
"deserialized" value is the stored one."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from dagruns.api.rest import present
from dagruns.api.rest.auth import require
from dagruns.api.rest.errors import not_found
from dagruns.api.rest.pagination import ListParams, order, page, pattern_filter
from dagruns.api.rest.routes.task_instances import PREFIX
from dagruns.api.rest.schemas.common import DbInt, errors
from dagruns.api.rest.schemas.xcoms import (
    XComCollectionResponse,
    XComResponseNative,
    XComResponseString,
)
from dagruns.domain.roles import Role
from dagruns.models import XCom

router = Router(tags=["XCom"])

XCOM_ORDER = {
    "key": "key",
    "dag_id": "dag_id",
    "run_id": "run_id",
    "task_id": "task_id",
    "map_index": "map_index",
    "timestamp": "timestamp",
    "logical_date": "dag_run__logical_date",
    "run_after": "dag_run__run_after",
}


@router.get(
    PREFIX + "/{task_id}/xcomEntries",
    response={200: XComCollectionResponse, **errors(400, 404)},
    operation_id="get_xcom_entries",
)
def get_xcom_entries(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    params: Query[ListParams],
    xcom_key: str | None = None,
    map_index: DbInt | None = None,
    xcom_key_pattern: str | None = None,
):
    require(request, Role.VIEWER)
    entries = present.with_task_display_name(
        present.with_dag_display_name(XCom.objects.select_related("dag_run"))
    )
    for name, value in (("dag_id", dag_id), ("run_id", dag_run_id), ("task_id", task_id)):
        if value != "~":
            entries = entries.filter(**{name: value})
    if xcom_key is not None:
        entries = entries.filter(key=xcom_key)
    if map_index is not None:
        entries = entries.filter(map_index=map_index)
    entries = entries.filter(pattern_filter("key", xcom_key_pattern, "xcom_key_pattern"))
    entries = order(
        entries, params.order_by, XCOM_ORDER, default=["dag_id", "run_id", "task_id", "key"]
    )
    rows, total = page(entries, params.limit, params.offset)
    return {"xcom_entries": [present.xcom(x) for x in rows], "total_entries": total}


@router.get(
    PREFIX + "/{task_id}/xcomEntries/{anypath:xcom_key}",
    response={200: XComResponseNative | XComResponseString, **errors(400, 404)},
    operation_id="get_xcom_entry",
)
def get_xcom_entry(
    request: HttpRequest,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    map_index: DbInt = -1,
    deserialize: bool = False,
    stringify: bool = False,
):
    """One XCom with its value (JSON as stored; `stringify` gives its Python text instead)."""
    require(request, Role.VIEWER)
    entry = (
        present.with_task_display_name(
            present.with_dag_display_name(XCom.objects.select_related("dag_run"))
        )
        .filter(
            dag_id=dag_id, run_id=dag_run_id, task_id=task_id, key=xcom_key, map_index=map_index
        )
        .first()
    )
    if entry is None:
        raise not_found(f"XCom entry with key: `{xcom_key}` not found")
    return present.xcom(entry, with_value=True, stringify=stringify)
