"""`/dags/<dag_id>/details` and `/dags/<dag_id>/tasks`: what the DAG's latest parsed version
declares — its documentation and settings, its versions, and every task's settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dagruns.domain.versions import serialized_of_version
from dagruns.models import DagVersion
from dagruns.ui.markdown import render_markdown
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region

# Airflow checks an owner link only for a scheme and a host (or mailto:); the page links only
# these schemes, so a `javascript://…` link is shown as the owner's name, never clickable.
SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Owner:
    name: str
    link: str


@dataclass(frozen=True)
class ParamRow:
    name: str
    default: str
    description: str
    schema: str


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    operator: str
    trigger_rule: str
    retries: int
    pool: str
    queue: str
    owner: str
    upstream: int
    downstream: int
    is_mapped: bool
    doc: str


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def latest_serialized(versions: list[tuple[int, int, Any]]) -> dict[str, Any]:
    """`versions`: (id, number, created_at), newest first."""
    return serialized_of_version(versions[0][0]) if versions else {}


def versions_of(dag) -> list[tuple[int, int, Any]]:
    return list(
        DagVersion.objects.filter(dag=dag)
        .order_by("-version_number")
        .values_list("pk", "version_number", "created_at")
    )


def owners_of(dag, owner_links: dict[str, Any]) -> list[Owner]:
    owners = []
    for name in (o.strip() for o in dag.owners.split(",")):
        if not name:
            continue
        link = owner_links.get(name)
        if not isinstance(link, str) or not link.lower().startswith(SAFE_LINK_SCHEMES):
            link = ""
        owners.append(Owner(name=name, link=link))
    return owners


def param_rows(params: dict[str, dict[str, Any]]) -> list[ParamRow]:
    return [
        ParamRow(
            name=name,
            default=as_json(spec.get("default")) if spec.get("has_default", True) else "",
            description=spec.get("description") or "",
            schema=as_json(spec.get("schema")) if spec.get("schema") else "",
        )
        for name, spec in sorted(params.items())
    ]


def task_rows(tasks: list[dict[str, Any]]) -> list[TaskRow]:
    return [
        TaskRow(
            task_id=t["task_id"],
            operator=t.get("custom_operator_name") or t.get("task_type") or "",
            trigger_rule=t.get("trigger_rule") or "all_success",
            retries=t.get("retries") or 0,
            pool=t.get("pool") or "default_pool",
            queue=t.get("queue") or "",
            owner=t.get("owner") or "",
            upstream=len(t.get("upstream_task_ids") or ()),
            downstream=len(t.get("downstream_task_ids") or ()),
            is_mapped=bool(t.get("is_mapped")),
            doc=t.get("doc_md") or "",
        )
        for t in tasks
    ]


@viewer_required
def details(request, dag_id: str):
    dag = get_dag(dag_id)
    versions = versions_of(dag)
    data = latest_serialized(versions)
    context = dag_context(request, dag, "details")
    context.update(
        {
            "parsed": bool(versions),
            "doc_html": render_markdown(data.get("doc_md")),
            "owners": owners_of(dag, data.get("owner_links") or {}),
            "start_date": data.get("start_date"),
            "end_date": data.get("end_date"),
            "catchup": data.get("catchup"),
            "timezone": data.get("timezone"),
            "dagrun_timeout": data.get("dagrun_timeout"),
            "max_consecutive_failed_dag_runs": data.get("max_consecutive_failed_dag_runs"),
            "fail_fast": data.get("fail_fast"),
            "is_paused_upon_creation": data.get("is_paused_upon_creation"),
            "render_template_as_native_obj": data.get("render_template_as_native_obj"),
            "template_searchpath": data.get("template_searchpath") or [],
            "default_args": as_json(data["default_args"]) if data.get("default_args") else "",
            "params": param_rows(data.get("params") or {}),
            "versions": [(number, created) for _pk, number, created in versions],
        }
    )
    return render_region(request, "dagruns/details.html", context, {})


@viewer_required
def tasks(request, dag_id: str):
    dag = get_dag(dag_id)
    versions = versions_of(dag)
    data = latest_serialized(versions)
    context = dag_context(request, dag, "tasks")
    context.update({"parsed": bool(versions), "tasks": task_rows(data.get("tasks") or [])})
    return render_region(request, "dagruns/tasks.html", context, {})
