"""`/dags/<dag_id>/runs/<run_id>`: one DAG run — its state, how and by whom it was triggered,
its dates, conf and note, how many of its task instances are in each state, and the run's
actions (clear, mark success/failed). The details region refreshes itself over the websocket
when the run or one of its task instances changes."""

from __future__ import annotations

import json

from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dagruns.actions.audit import Actor
from dagruns.actions.notes import NoteInvalid, do_set_run_note
from dagruns.domain.masking import masked
from dagruns.models import DagRun, TaskInstance
from dagruns.models.states import DAGRUN_ACTIVE
from dagruns.ui import format as fmt
from dagruns.ui.urls import run_url
from dagruns.views.access import get_dag, get_run, user_required, viewer_required
from dagruns.views.common import dag_context, render_region

NO_STATE = "none"


def state_counts(run: DagRun) -> list[tuple[str, int]]:
    """(state, how many task instances are in it), most common first; `none` for no state."""
    rows = (
        TaskInstance.objects.filter(dag_run_id=run.pk)
        .values("state")
        .annotate(n=Count("id"))
        .order_by("-n", "state")
    )
    return [(row["state"] or NO_STATE, row["n"]) for row in rows]


def _details(request, dag, run: DagRun, note_error: str = "") -> dict:
    triggered_by_ti = run.triggered_by_ti
    end = run.end_date or (timezone.now() if run.start_date else None)
    return {
        "run": run,
        "run_url": run_url(dag.dag_id, run.run_id),
        "counts": state_counts(run),
        "conf_pretty": json.dumps(run.conf, indent=2, ensure_ascii=False, sort_keys=True),
        "note_text": masked(run.note),
        "note_error": note_error,
        "duration_text": fmt.duration(fmt.between(run.start_date, end)),
        "triggered_by_ti": triggered_by_ti,
        "active": run.state in DAGRUN_ACTIVE,
    }


def _get_run(dag_id: str, run_id: str) -> DagRun:
    run = get_run(dag_id, run_id)
    # One query for the triggering task instance, if any, instead of a lazy load in the page.
    if run.triggered_by_ti_id:
        run.triggered_by_ti = TaskInstance.objects.get(pk=run.triggered_by_ti_id)
    return run


@viewer_required
def run_page(request, dag_id: str, run_id: str):
    dag = get_dag(dag_id)
    run = _get_run(dag_id, run_id)
    context = dag_context(request, dag, "run", run_id=run.run_id)
    context.update(_details(request, dag, run))
    return render_region(
        request, "dagruns/run.html", context, {"run-details": "dagruns/_run_details.html"}
    )


@require_POST
@user_required
def run_note(request, dag_id: str, run_id: str):
    """Save the run's note (Airflow's PATCH of a run's note) and show the note form again."""
    dag = get_dag(dag_id)
    run = _get_run(dag_id, run_id)
    problem = ""
    try:
        do_set_run_note(run, request.POST.get("note", ""), Actor(user=request.user))
    except NoteInvalid as exc:
        problem = str(exc)
    if not problem and not getattr(request, "htmx", False):
        return redirect(run_url(dag.dag_id, run.run_id))
    context = dag_context(request, dag, "run", run_id=run.run_id)
    context.update(_details(request, dag, run, note_error=problem))
    if problem:
        context["note_text"] = request.POST.get("note", "")
    else:
        context["note_saved"] = True
    # htmx swaps the note card; a plain form post gets the whole page with the error.
    template = "dagruns/_run_note.html" if getattr(request, "htmx", False) else "dagruns/run.html"
    return render(request, template, context)
