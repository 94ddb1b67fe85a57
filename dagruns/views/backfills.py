"""Backfills in the UI: the form on the DAG page (start, end, reprocess behaviour, max active
runs, backwards, conf), its review (the action's dry run: every date and what will happen to
it) before anything starts, and the DAG's backfills tab, where the latest backfill's progress
(its dates and their runs) updates live and can be paused, unpaused or cancelled.

Each step calls the same dagruns.actions.backfills functions as the CLI and the REST API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import (
    DEFAULT_MAX_ACTIVE_RUNS,
    AlreadyRunningBackfill,
    BackfillCompleted,
    BackfillRefused,
    BackfillRequest,
    do_cancel_backfill,
    do_create_backfill,
    do_dry_run_backfill,
    do_pause_backfill,
    do_unpause_backfill,
)
from dagruns.actions.text import contains_nul, nul_message
from dagruns.models import Backfill, BackfillDagRunMap, ReprocessBehavior
from dagruns.models.states import DAGRUN_ACTIVE
from dagruns.ui import format as fmt
from dagruns.ui import params_form
from dagruns.views.access import get_dag, user_required, viewer_required
from dagruns.views.actions import _render
from dagruns.views.common import dag_context, render_region

# Airflow's UI words for the three behaviours.
BEHAVIOR_LABELS = [
    (ReprocessBehavior.NONE.value, "Missing runs"),
    (ReprocessBehavior.FAILED.value, "Missing and errored runs"),
    (ReprocessBehavior.COMPLETED.value, "All runs"),
]
REVIEW_ROWS = 200  # dates listed in the review; the rest are counted
PAGE_SIZE = 50


def backfills_url(dag_id: str) -> str:
    return reverse("ui:backfills", args=[dag_id])


def _parse_moment(text: str, name: str, errors: dict[str, str]) -> datetime | None:
    if not text:
        errors[name] = "Enter a date and time (YYYY-MM-DDTHH:MM)."
        return None
    try:
        moment = parse_datetime(text)
    except ValueError as exc:  # well-formed but impossible: month 13, hour 25
        errors[name] = f"Not a valid date and time: {exc}."
        return None
    if moment is None:
        errors[name] = "Enter a date and time (YYYY-MM-DDTHH:MM)."
        return None
    # Typed as the viewer reads every date: in their timezone.
    return timezone.make_aware(moment, fmt.viewer_zone()) if timezone.is_naive(moment) else moment


def _read_form(data) -> tuple[dict[str, Any], BackfillRequest | None, dict[str, str]]:
    """The form's values as typed (to show again), the request they make, and field errors."""
    values = {
        "from_date": data.get("from_date", "").strip(),
        "to_date": data.get("to_date", "").strip(),
        "reprocess_behavior": data.get("reprocess_behavior", ReprocessBehavior.NONE),
        "max_active_runs": data.get("max_active_runs", "").strip(),
        "run_backwards": data.get("run_backwards") in ("on", "true", "1"),
        "conf": data.get("conf", ""),
    }
    errors: dict[str, str] = {}
    from_date = _parse_moment(values["from_date"], "from_date", errors)
    to_date = _parse_moment(values["to_date"], "to_date", errors)
    if values["reprocess_behavior"] not in ReprocessBehavior.values:
        errors["reprocess_behavior"] = (
            f"Choose one of {', '.join(ReprocessBehavior.values)}, "
            f"not {values['reprocess_behavior']!r}."
        )
    max_active_runs = DEFAULT_MAX_ACTIVE_RUNS
    if values["max_active_runs"]:
        try:
            max_active_runs = int(values["max_active_runs"])
        except ValueError:
            errors["max_active_runs"] = "Enter a whole number of at least 1."
        else:
            if not 1 <= max_active_runs <= 2**31 - 1:
                errors["max_active_runs"] = "Enter a whole number of at least 1."
    conf = None
    if values["conf"].strip():
        conf, problem = params_form.parse_conf_json(values["conf"])
        if problem:
            errors["conf"] = problem
        elif contains_nul(conf):
            errors["conf"] = nul_message("conf")
    if errors or from_date is None or to_date is None:
        return values, None, errors
    request = BackfillRequest(
        dag_id="",
        from_date=from_date,
        to_date=to_date,
        run_backwards=values["run_backwards"],
        dag_run_conf=conf,
        reprocess_behavior=values["reprocess_behavior"],
        max_active_runs=max_active_runs,
    )
    return values, request, errors


@user_required
def backfill(request, dag_id: str):
    """GET: the form. POST: the review (a dry run), or with confirm=1 the backfill itself."""
    dag = get_dag(dag_id)
    context: dict[str, Any] = {
        "dag": dag,
        "behaviors": BEHAVIOR_LABELS,
        "values": {
            "from_date": "",
            "to_date": "",
            "reprocess_behavior": ReprocessBehavior.NONE.value,
            "max_active_runs": DEFAULT_MAX_ACTIVE_RUNS,
            "run_backwards": False,
            "conf": "",
        },
        "errors": {},
        "error": "",
    }
    if request.method != "POST":
        return _render(request, "dagruns/_backfill_form.html", context)
    values, parsed, errors = _read_form(request.POST)
    context.update({"values": values, "errors": errors})
    if parsed is None:
        context["error"] = "Please correct the errors below."
        return _render(request, "dagruns/_backfill_form.html", context)
    wanted = BackfillRequest(**{**parsed.__dict__, "dag_id": dag.dag_id})
    try:
        if request.POST.get("confirm") != "1":
            plan = do_dry_run_backfill(wanted)
            will_run = sum(1 for r in plan.runs if r.will_run)
            context.update(
                {
                    "plan": plan.runs[:REVIEW_ROWS],
                    "total": len(plan.runs),
                    "more": max(0, len(plan.runs) - REVIEW_ROWS),
                    "will_run": will_run,
                    "skipped": len(plan.runs) - will_run,
                    "conf_json": json.dumps(wanted.dag_run_conf or {}, ensure_ascii=False),
                }
            )
            return _render(request, "dagruns/_backfill_review.html", context)
        made = do_create_backfill(wanted, Actor(user=request.user))
    except (BackfillRefused, AlreadyRunningBackfill) as exc:
        context["error"] = str(exc)
        return _render(request, "dagruns/_backfill_form.html", context)
    target = backfills_url(dag.dag_id)
    message = f"Backfill {made.pk} of {dag.dag_id} created: its runs start now."
    if getattr(request, "htmx", False):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = target
        return response
    messages.success(request, message)
    return redirect(target)


def _progress(backfill: Backfill, page_number: str | None) -> dict[str, Any]:
    rows = BackfillDagRunMap.objects.filter(backfill=backfill)
    counts = rows.aggregate(
        dates=Count("pk"),
        pending=Count("pk", filter=Q(dag_run=None, exception_reason="")),
        skipped=Count("pk", filter=~Q(exception_reason="")),
        success=Count("pk", filter=Q(dag_run__state="success")),
        failed=Count("pk", filter=Q(dag_run__state="failed")),
        active=Count("pk", filter=Q(dag_run__state__in=DAGRUN_ACTIVE)),
    )
    page = Paginator(rows.select_related("dag_run").order_by("sort_ordinal"), PAGE_SIZE).get_page(
        page_number
    )
    return {"backfill": backfill, "counts": counts, "page": page}


@viewer_required
def backfills(request, dag_id: str):
    """The DAG's backfills, newest first, with one backfill's progress (?backfill=, default
    the newest)."""
    dag = get_dag(dag_id)
    all_backfills = list(Backfill.objects.filter(dag=dag).order_by("-pk")[:50])
    chosen = all_backfills[0] if all_backfills else None
    wanted = request.GET.get("backfill")
    if wanted:
        chosen = Backfill.objects.filter(dag=dag, pk=wanted if wanted.isdigit() else -1).first()
        if chosen is None:
            raise Http404(f"DAG {dag_id} has no backfill {wanted}")
    context = dag_context(request, dag, "backfills")
    context.update({"backfills": all_backfills, "active": False})
    if chosen is not None:
        context.update(_progress(chosen, request.GET.get("page")))
        context["active"] = chosen.completed_at is None
    return render_region(
        request, "dagruns/backfills.html", context, {"backfill": "dagruns/_backfill_progress.html"}
    )


VERBS = {
    "pause": (do_pause_backfill, "paused"),
    "unpause": (do_unpause_backfill, "unpaused"),
    "cancel": (do_cancel_backfill, "cancelled"),
}


@require_POST
@user_required
def backfill_change(request, dag_id: str, backfill_id: int, verb: str):
    dag = get_dag(dag_id)
    if verb not in VERBS or not Backfill.objects.filter(dag=dag, pk=backfill_id).exists():
        raise Http404(f"DAG {dag_id} has no backfill {backfill_id} to {verb}")
    action, done = VERBS[verb]
    try:
        action(backfill_id, Actor(user=request.user))
    except BackfillCompleted as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Backfill {backfill_id} {done}.")
    return redirect(f"{backfills_url(dag.dag_id)}?backfill={backfill_id}")
