"""`/dags/<dag_id>/runs/<run_id>/tasks/<task_id>`: a task instance — every try with its own
log, XComs, rendered template fields, attributes, and why it is waiting. The grid, graph and
gantt open the same view as a panel (an htmx request for `#panel`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from dagruns.domain import logs
from dagruns.domain.masking import masked
from dagruns.models import TaskInstance, TaskInstanceHistory, XCom
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED
from dagruns.ui import deps
from dagruns.ui import format as fmt
from dagruns.ui.structure import structure_for
from dagruns.ui.urls import dag_url, ti_url, ws_url
from dagruns.views.access import get_dag, get_run, viewer_required
from dagruns.views.common import dag_context, render_region
from dagruns.views.logs import log_context

ATTRIBUTES = (
    "task_id",
    "map_index",
    "state",
    "try_number",
    "max_tries",
    "operator",
    "pool",
    "pool_slots",
    "queue",
    "priority_weight",
    "executor",
    "hostname",
    "pid",
    "scheduled_dttm",
    "queued_dttm",
    "start_date",
    "end_date",
    "duration",
    "next_retry_at",
    "last_heartbeat_at",
    "cpu_time",
    "peak_memory",
    "updated_at",
)


@dataclass
class TryView:
    try_number: int
    state: str
    start: object
    end: object
    duration: str
    hostname: str
    cpu_time: str
    peak_memory: str
    current: bool


def pretty(value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def tries_of(ti: TaskInstance) -> list[TryView]:
    rows: dict[int, TaskInstanceHistory | TaskInstance] = {
        h.try_number: h
        for h in TaskInstanceHistory.objects.filter(task_instance=ti).order_by("try_number")
    }
    if ti.try_number and (ti.try_number not in rows or ti.state not in TI_FINISHED):
        rows[ti.try_number] = ti
    result = []
    for number in sorted(rows):
        row = rows[number]
        result.append(
            TryView(
                try_number=number,
                state=(row.state or "none"),
                start=row.start_date,
                end=row.end_date,
                duration=fmt.duration(row.duration),
                hostname=row.hostname,
                cpu_time=fmt.duration(row.cpu_time) if row.cpu_time is not None else "",
                peak_memory=fmt.size(row.peak_memory),
                current=number == ti.try_number,
            )
        )
    return result


def ti_context(request, dag, run, ti) -> dict:
    version_id = ti.dag_version_id or run.dag_version_id
    structure = structure_for(version_id, str(version_id))
    task = structure.tasks.get(ti.task_id, {})
    tries = tries_of(ti)
    try:
        chosen = int(request.GET.get("try", 0)) or (tries[-1].try_number if tries else 0)
    except ValueError:
        chosen = tries[-1].try_number if tries else 0
    # Values that come from a task are shown through the server's masker: a secret the task
    # put in a return value or a template is *** here as in the log.
    xcoms = [
        {
            "key": x.key,
            "map_index": x.map_index,
            "value": pretty(masked(x.value)),
            "when": x.timestamp,
        }
        for x in XCom.objects.filter(dag_run=run, task_id=ti.task_id).order_by("map_index", "key")
    ]
    rendered = ti.rendered_fields or {}
    template_fields = [
        {
            "name": name,
            "value": pretty(masked(rendered.get(name, value))),
            "rendered": name in rendered,
        }
        for name, value in ((task.get("template_values") or {}).items())
    ]
    for name, value in rendered.items():
        if not any(f["name"] == name for f in template_fields):
            template_fields.append({"name": name, "value": pretty(masked(value)), "rendered": True})
    attributes = [(name, getattr(ti, name)) for name in ATTRIBUTES]
    attributes.append(("trigger_rule", task.get("trigger_rule", "")))
    attributes.append(("upstream", ", ".join(task.get("upstream_task_ids") or ()) or "—"))
    attributes.append(("downstream", ", ".join(task.get("downstream_task_ids") or ()) or "—"))
    url = ti_url(dag.dag_id, run.run_id, ti.task_id)
    context = {
        "dag": dag,
        "run": run,
        "ti": ti,
        "state": ti.state or "none",
        "task": task,
        "task_display_name": task.get("task_display_name") or ti.task_id,
        "tries": tries,
        "chosen_try": chosen,
        "xcoms": xcoms,
        "template_fields": template_fields,
        "attributes": attributes,
        "reasons": deps.explain(ti, run, dag, structure),
        "ti_url": url,
        "grid_url": dag_url(dag.dag_id),
        "ti_ws_url": ws_url(dag.dag_id, view="ti", run_id=run.run_id, task_id=ti.task_id),
        "log": log_context(ti, chosen, url) if chosen else None,
        "is_failed": ti.state in TI_FAILED_LIKE,
    }
    return context


@viewer_required
def task_instance(request, dag_id: str, run_id: str, task_id: str):
    dag = get_dag(dag_id)
    run = get_run(dag_id, run_id)
    ti = get_object_or_404(
        TaskInstance.objects.order_by("map_index"), dag_run=run, task_id=task_id, map_index=-1
    )
    context = dag_context(request, dag, "ti", run_id=run.run_id, task_id=ti.task_id)
    context.update(ti_context(request, dag, run, ti))
    return render_region(
        request,
        "dagruns/task_instance.html",
        context,
        {
            "panel": "dagruns/_ti_panel.html",
            "ti-summary": "dagruns/_ti_summary.html",
            "ti-logs": "dagruns/_ti_logs.html",
        },
    )


def log_file_for(ti: TaskInstance, try_number: int):
    return logs.ti_log_path(ti, try_number)
