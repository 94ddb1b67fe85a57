"""`/dags/<dag_id>/runs/<run_id>/tasks/<task_id>`: a task instance — every try with its own
log, XComs, rendered template fields, attributes, and why it is waiting. The grid, graph and
gantt open the same view as a panel (an htmx request for `#panel`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.shortcuts import redirect, render

from dagruns.actions.mapped import (
    MapIndexError,
    TaskIsMapped,
    get_mapped_ti_or_raise,
    mapped_task_ids,
    summarize,
)
from dagruns.domain import logs
from dagruns.domain.masking import masked
from dagruns.models import DagRun, TaskInstance, TaskInstanceHistory, TaskReschedule, XCom
from dagruns.models.states import TI_FAILED_LIKE, TI_FINISHED
from dagruns.ui import deps
from dagruns.ui import format as fmt
from dagruns.ui.markdown import render_markdown
from dagruns.ui.structure import group_state, structure_for
from dagruns.ui.urls import dag_url, ti_url, with_query, ws_url
from dagruns.views.access import get_dag, get_run, viewer_required
from dagruns.views.common import dag_context, render_region
from dagruns.views.logs import log_context

MAPPED_PAGE = 100
ATTRIBUTES = (
    "task_id",
    "map_index",
    "rendered_map_index",
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


# A sensor rescheduled every minute for a week has 10,080 rows: the page shows the latest.
RESCHEDULES_SHOWN = 50


def reschedules_of(ti: TaskInstance) -> tuple[int, list[TaskReschedule]]:
    """How many times a reschedule-mode sensor gave back its slot, and the latest times."""
    rows = list(TaskReschedule.objects.filter(task_instance=ti).order_by("-id")[:RESCHEDULES_SHOWN])
    count = len(rows)
    if count == RESCHEDULES_SHOWN:
        count = TaskReschedule.objects.filter(task_instance=ti).count()
    return count, rows


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
        for x in XCom.objects.filter(
            dag_run=run, task_id=ti.task_id, map_index=ti.map_index
        ).order_by("key")
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
    # Dates in the viewer's zone, seconds and bytes in human units, not raw numbers.
    attributes = [(name, fmt.attribute(name, getattr(ti, name))) for name in ATTRIBUTES]
    attributes.append(("trigger_rule", task.get("trigger_rule", "")))
    attributes.append(("upstream", ", ".join(task.get("upstream_task_ids") or ()) or "—"))
    attributes.append(("downstream", ", ".join(task.get("downstream_task_ids") or ()) or "—"))
    url = ti_url(dag.dag_id, run.run_id, ti.task_id, map_index=ti.map_index)
    context = {
        # Airflow's "Triggered DAG" operator link: runs this task instance triggered.
        "triggered_runs": [
            {
                "dag_id": r.dag_id,
                "run_id": r.run_id,
                "state": r.state,
                "url": with_query(dag_url(r.dag_id, "graph"), run_id=r.run_id),
            }
            for r in DagRun.objects.filter(triggered_by_ti=ti).order_by("pk")
        ],
        "dag": dag,
        "run": run,
        "ti": ti,
        "state": ti.state or "none",
        "task": task,
        "task_display_name": task.get("task_display_name") or ti.task_id,
        "task_doc_html": render_markdown(task.get("doc_md")),
        "tries": tries,
        "reschedules": reschedules_of(ti),
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
        "mapped_url": ti_url(dag.dag_id, run.run_id, ti.task_id) if ti.map_index >= 0 else "",
        "siblings": mapped_picker(run, ti) if ti.map_index >= 0 else None,
        # A mapped task still at its -1 row: not expanded yet, or expanded to nothing.
        "unexpanded": ti.map_index < 0
        and version_id is not None
        and ti.task_id in mapped_task_ids(version_id),
    }
    return context


def mapped_picker(run, ti: TaskInstance) -> dict:
    """The map-index picker of one instance's page: how many there are and the neighbours
    (indexes only: a 1,000-instance task costs one small query)."""
    numbers = list(
        TaskInstance.objects.filter(dag_run=run, task_id=ti.task_id, map_index__gte=0)
        .order_by("map_index")
        .values_list("map_index", flat=True)
    )
    position = numbers.index(ti.map_index) if ti.map_index in numbers else -1
    url = ti_url(run.dag_id, run.run_id, ti.task_id)
    before = numbers[position - 1] if position > 0 else None
    after = numbers[position + 1] if 0 <= position < len(numbers) - 1 else None
    return {
        "count": len(numbers),
        "prev_url": f"{url}/mapped/{before}" if before is not None else "",
        "next_url": f"{url}/mapped/{after}" if after is not None else "",
    }


def mapped_context(request, dag, run, task_id: str) -> dict:
    """A mapped task's page before an index is picked: its instances (paged), their states
    counted, each linking to its own page."""
    tis = TaskInstance.objects.filter(dag_run=run, task_id=task_id, map_index__gte=0)
    states = list(tis.values_list("state", flat=True))
    try:
        page_number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_number = 1
    start = (page_number - 1) * MAPPED_PAGE
    shown = list(
        tis.order_by("map_index").only(
            "map_index",
            "rendered_map_index",
            "task_display_name",
            "state",
            "try_number",
            "start_date",
            "end_date",
            "duration",
        )[start : start + MAPPED_PAGE]
    )
    url = ti_url(dag.dag_id, run.run_id, task_id)
    summary = summarize(states)
    return {
        "dag": dag,
        "run": run,
        "task_id": task_id,
        # Every instance of a task carries the same name: the first shown one's will do.
        "task_display_name": (shown[0].task_display_name if shown else "") or task_id,
        "state": group_state(states) or "none",
        "summary": summary,
        "instances": [
            {
                "map_index": t.map_index,
                "name": t.rendered_map_index,
                "state": t.state or "none",
                "try_number": t.try_number,
                "start": t.start_date,
                "end": t.end_date,
                "duration": fmt.duration(t.duration),
                "url": f"{url}/mapped/{t.map_index}",
            }
            for t in shown
        ],
        "ti_url": url,
        "page": page_number,
        "prev_page": page_number - 1 if page_number > 1 else None,
        "next_page": page_number + 1 if start + MAPPED_PAGE < summary.count else None,
        "grid_url": dag_url(dag.dag_id),
    }


@viewer_required
def task_instance(request, dag_id: str, run_id: str, task_id: str, map_index: int | None = None):
    dag = get_dag(dag_id)
    run = get_run(dag_id, run_id)
    picked = request.GET.get("map_index", "")
    if map_index is None and picked.isdigit():
        # The picker's GET form: to the instance's own URL (a bookmarkable path).
        return redirect(ti_url(dag.dag_id, run.run_id, task_id, map_index=int(picked)))
    context = dag_context(request, dag, "ti", run_id=run.run_id, task_id=task_id)
    try:
        ti = get_mapped_ti_or_raise(run, task_id, map_index)
    except TaskIsMapped:
        context.update(mapped_context(request, dag, run, task_id))
        return render_region(
            request,
            "dagruns/mapped_task.html",
            context,
            {
                "panel": "dagruns/_mapped_panel.html",
                "mapped-instances": "dagruns/_mapped_instances.html",
                # An open page of the task from before its expansion: its live regions
                # become the instances' list (and the log region, which has no single log).
                "ti-summary": "dagruns/_mapped_instances.html",
                "ti-logs": "dagruns/_mapped_no_log.html",
            },
        )
    except MapIndexError as exc:
        # A map index the task does not have (or one given for an unmapped task): say which.
        context["problem"] = str(exc)
        context["mapped_url"] = ti_url(dag.dag_id, run.run_id, task_id)
        return render(request, "dagruns/ti_not_found.html", context, status=404)
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
