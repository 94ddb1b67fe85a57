"""Actions from the UI: trigger, clear, mark success/failed, retry, pause, delete a run, set a
run's state. Each goes through the same `dagruns.actions` function the CLI and REST API call,
and each (pause aside, which changes one flag the button names) is confirmed on a page that
lists exactly what will change — computed by the action itself with `dry_run=True`.

Every view here needs the User role, checked on the server for GET and POST alike; POSTs carry
Django's CSRF token. After an htmx POST the response is 204 with an `orch:done` trigger (the
modal closes, the page's live regions refresh); a plain POST redirects back.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme

from dagruns.actions.audit import Actor
from dagruns.actions.dags import do_set_paused
from dagruns.actions.mapped import MapIndexError, get_mapped_ti_or_raise
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.actions.task_instances import (
    InvalidSelection,
    do_clear,
    do_clear_run,
    do_delete_run,
    do_mark_state,
    do_set_run_state,
    select_task_instances,
)
from dagruns.actions.text import contains_nul, nul_message
from dagruns.models import DagVersion, TaskInstance
from dagruns.models.states import DagRunState, DagRunTriggeredBy, TaskInstanceState
from dagruns.ui import format as fmt
from dagruns.ui import params_form
from dagruns.ui.pause_text import pause_effect
from dagruns.ui.structure import structure_for
from dagruns.ui.urls import dag_url
from dagruns.views.access import get_dag, get_run, user_required

TIS = TaskInstanceState
FLAGS = ("upstream", "downstream", "only_failed", "recursive", "dependent_dags")


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _done(request, message: str, fallback: str):
    """Success: htmx gets 204 + a trigger; a plain form gets redirected with a message."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"orch:done": {"message": message}})
        return response
    messages.success(request, message)
    return redirect(_next_url(request, fallback))


def _render(request, template: str, context: dict, status: int = 200):
    """The form as a page, or as the modal's body for htmx."""
    base = "dagruns/_modal.html" if getattr(request, "htmx", False) else "dagruns/action_page.html"
    context = {**context, "base_template": base, "form_template": template}
    return render(request, base, context, status=status)


def _param(request, name: str) -> str:
    return (request.POST.get(name) if request.method == "POST" else request.GET.get(name)) or ""


def _params(request) -> QueryDict:
    source = request.POST if request.method == "POST" else request.GET
    return source


def _item(ti: TaskInstance, new_state: str | None) -> dict:
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "state": ti.state or "none",
        "new_state": new_state or "none",
    }


def _items(tis: list[TaskInstance], new_state: str | None) -> list[dict]:
    return [_item(ti, new_state) for ti in tis]


def _bad_state(state: str, *allowed: str) -> str:
    return f"state must be {' or '.join(allowed)}, not {state!r}"


def _refused(request, dag, run, title: str, problem: str, status: int = 200):
    """The confirmation page with the action's refusal instead of a list. Status 200 for what
    a person chose in the dialog, like the trigger form's field errors (htmx swaps only
    successful responses into the modal); 400 for a parameter no page sends."""
    context = {
        "dag": dag,
        "run": run,
        "title": title,
        "verb": "",
        "action_url": "",
        "task_ids": [],
        "flags": None,
        "items": [],
        "error": problem,
        "explain": "",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context, status=status)


# --- trigger -------------------------------------------------------------------------------


@user_required
def trigger(request, dag_id: str):
    dag = get_dag(dag_id)
    version = DagVersion.objects.filter(dag=dag).order_by("-version_number").first()
    params = (version.serialized.get("params") or {}) if version else {}
    structure = structure_for(version.pk, version.structure_hash) if version else None
    start = params_form.initial(params)
    context: dict[str, Any] = {
        "dag": dag,
        "version": version,
        "has_params": bool(params),
        "mode": start.mode,
        "fields": start.fields,
        "extra_text": "",
        "extra_keys": [],
        "conf_text": start.conf_text if params else "{}",
        "run_id": "",
        "logical_date": "",
        "note": "",
        "errors": {},
        "error": "",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    if version is None:
        context["error"] = "This DAG has not been parsed yet: there is nothing to trigger."
        return _render(request, "dagruns/_trigger_form.html", context)
    if request.method != "POST":
        return _render(request, "dagruns/_trigger_form.html", context)
    data = request.POST
    run_id = data.get("run_id", "").strip()
    logical_text = data.get("logical_date", "").strip()
    note = data.get("note", "")
    context.update({"run_id": run_id, "logical_date": logical_text, "note": note})
    errors: dict[str, str] = {}
    if data.get("confirm") == "1":
        conf, problem = params_form.parse_conf_json(data.get("conf_json", ""))
        if problem:
            errors["conf"] = problem
    elif params:
        try:
            entered = params_form.read(params, data)
        except ValueError as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
        context.update(
            mode=entered.mode,
            fields=entered.fields,
            conf_text=entered.conf_text,
            extra_text=entered.extra_text,
            extra_keys=entered.extra_keys,
        )
        if data.get("switch_mode"):
            context["errors"] = entered.errors  # a JSON editor that cannot be read stays
            return _render(request, "dagruns/_trigger_form.html", context)
        conf, errors = entered.conf, entered.errors
    else:
        context["conf_text"] = data.get("conf", "")
        conf, problem = params_form.parse_conf_json(data.get("conf", ""))
        if problem:
            errors["conf"] = problem
    if not errors.get("conf") and contains_nul(conf):
        # A JSON "\u0000" escape: the raw form field held no NUL, the parsed conf does.
        errors["conf"] = nul_message("conf")
    logical_date = None
    if logical_text:
        try:
            logical_date = parse_datetime(logical_text)
        except ValueError as exc:  # well-formed but impossible: year 0, month 13, hour 25
            errors["logical_date"] = f"Not a valid date and time: {exc}."
        else:
            if logical_date is None:
                errors["logical_date"] = "Enter a date and time (YYYY-MM-DDTHH:MM)."
            elif timezone.is_naive(logical_date):
                # Typed as the viewer reads every date: in their timezone.
                logical_date = timezone.make_aware(logical_date, fmt.viewer_zone())
    context["errors"] = errors
    if errors:
        context["error"] = "Please correct the errors below."
        return _render(request, "dagruns/_trigger_form.html", context)
    confirmed = data.get("confirm") == "1"
    try:
        # Unconfirmed, the action's dry run checks everything and says what would be created.
        run = do_trigger_dag(
            dag.dag_id,
            Actor(user=request.user),
            conf=conf,
            run_id=run_id or None,
            logical_date=logical_date,
            note=note,
            triggered_by=DagRunTriggeredBy.UI,
            dry_run=not confirmed,
        )
        if not confirmed:
            context.update(
                {
                    "conf": run.conf,
                    "conf_json": json.dumps(run.conf, ensure_ascii=False),
                    "conf_pretty": json.dumps(
                        run.conf, indent=2, ensure_ascii=False, sort_keys=True
                    ),
                    "task_ids": list(structure.order) if structure else [],
                    "shown_run_id": run_id or "manual__<the time you confirm>",
                    "logical_moment": run.logical_date if logical_date else None,
                }
            )
            return _render(request, "dagruns/_trigger_confirm.html", context)
    except TriggerError as exc:
        context["error"] = str(exc)
        if params:
            context["fields"] = params_form.fields_for(params, conf)
            extra = {k: v for k, v in (conf or {}).items() if k not in params}
            context["extra_text"] = json.dumps(extra) if extra else ""
            context["extra_keys"] = sorted(extra)
        else:
            context["conf_text"] = json.dumps(conf, indent=2, ensure_ascii=False)
        return _render(request, "dagruns/_trigger_form.html", context)
    return _done(
        request, f"Triggered {dag.dag_id}: run {run.run_id} is queued.", dag_url(dag.dag_id)
    )


# --- clear / mark / retry -------------------------------------------------------------------


def _task_ids(request, run) -> list[str]:
    source = _params(request)
    ids = [t for t in source.getlist("task_id") if t]
    groups = [g for g in source.getlist("group_id") if g]
    if groups and run.dag_version_id:
        structure = structure_for(run.dag_version_id, str(run.dag_version_id))
        for group in groups:
            row = structure.groups.get(group)
            if row:
                ids.extend(row.task_ids)
    return list(dict.fromkeys(ids))


def _map_indexes(request, run, task_ids: list[str]) -> list[int]:
    """`map_index` fields: the named tasks' mapped instances to act on (none: every instance).
    Each must exist for each named task, or the action is refused naming it."""
    values = [v for v in _params(request).getlist("map_index") if v != ""]
    indexes = []
    for value in values:
        try:
            indexes.append(int(value))
        except ValueError:
            raise InvalidSelection(f"map_index must be a whole number, not {value!r}") from None
    for task_id in task_ids:
        for index in indexes:
            get_mapped_ti_or_raise(run, task_id, index)
    return sorted(set(indexes))


def _selection(
    run, task_ids: list[str], flags: dict[str, bool], map_indexes: list[int] | None = None
) -> list[TaskInstance]:
    """The task instances the options select, by the actions' own selection. `recursive`
    follows upstream/downstream all the way; without it only direct neighbours are added."""
    return select_task_instances(
        run.dag_id,
        run_ids=[run.run_id],
        task_ids=task_ids,
        map_indexes={t: set(map_indexes) for t in task_ids} if map_indexes else None,
        include_upstream=flags["upstream"],
        include_downstream=flags["downstream"],
        direct_relatives_only=not flags["recursive"],
        only_failed=flags["only_failed"],
        include_dependent_dags=flags.get("dependent_dags", False),
    )


def _flags(request, defaults: dict[str, bool]) -> dict[str, bool]:
    source = _params(request)
    if "options" not in source:  # first display: the defaults
        return dict(defaults)
    return {flag: source.get(flag) in ("1", "on", "true") for flag in FLAGS}


@user_required
def clear(request, dag_id: str):
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    task_ids = _task_ids(request, run)
    flags = _flags(
        request,
        {
            "upstream": False,
            "downstream": True,
            "only_failed": False,
            "recursive": True,
            "dependent_dags": False,
        },
    )
    try:
        map_indexes = _map_indexes(request, run, task_ids)
        selected = _selection(run, task_ids, flags, map_indexes)
    except (InvalidSelection, MapIndexError) as exc:
        return _refused(request, dag, run, "Clear task instances", str(exc))
    tis = do_clear(selected, Actor(user=request.user), dry_run=True)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        done = do_clear(selected, Actor(user=request.user))
        return _done(
            request,
            f"Cleared {len(done)} task instance(s) of run {run.run_id}.",
            dag_url(dag.dag_id),
        )
    context = {
        "dag": dag,
        "run": run,
        "title": "Clear task instances",
        "verb": "Clear",
        "action_url": dag_url(dag.dag_id, "clear"),
        "task_ids": task_ids,
        "map_indexes": map_indexes,
        "flags": flags,
        "flag_labels": (
            ("downstream", "Downstream", "also clear the tasks after these"),
            ("upstream", "Upstream", "also clear the tasks before these"),
            ("only_failed", "Only failed", "only failed and upstream-failed task instances"),
            (
                "recursive",
                "Recursive",
                "follow upstream/downstream all the way (otherwise only direct neighbours)",
            ),
            (
                "dependent_dags",
                "Dependent DAGs",
                "also clear the tasks ExternalTaskMarkers among these point to in other DAGs, "
                "and their downstream",
            ),
        ),
        "items": _items(tis, None),
        "explain": "These task instances go back to no status and run again with a new try "
        "(their earlier tries and logs are kept). Running ones are stopped.",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context)


@user_required
def clear_run(request, dag_id: str):
    """Clear a whole run: all its task instances, or only the failed ones (Airflow's clear of
    a DAG run), listing what will be cleared before the confirmation."""
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    flags = _flags(request, {flag: False for flag in FLAGS})
    only_failed = flags["only_failed"]
    actor = Actor(user=request.user)
    tis = do_clear_run(dag.dag_id, run.run_id, actor, only_failed=only_failed, dry_run=True)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        done = do_clear_run(dag.dag_id, run.run_id, actor, only_failed=only_failed)
        return _done(
            request,
            f"Cleared {len(done)} task instance(s) of run {run.run_id}.",
            dag_url(dag.dag_id),
        )
    context = {
        "dag": dag,
        "run": run,
        "title": "Clear a DAG run",
        "verb": "Clear",
        "action_url": dag_url(dag.dag_id, "clear_run"),
        "task_ids": [],
        "flags": {"only_failed": only_failed},
        "flag_labels": (
            ("only_failed", "Only failed", "only failed and upstream-failed task instances"),
        ),
        "items": _items(tis, None),
        "explain": "These task instances go back to no status and run again with a new try "
        "(their earlier tries and logs are kept); the run starts again. Running ones are stopped.",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context)


@user_required
def mark(request, dag_id: str):
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    state = _param(request, "state")
    if state not in (TIS.SUCCESS, TIS.FAILED):
        return _refused(
            request,
            dag,
            run,
            "Mark task instances",
            _bad_state(state, TIS.SUCCESS, TIS.FAILED),
            400,
        )
    task_ids = _task_ids(request, run)
    flags = _flags(
        request, {"upstream": False, "downstream": False, "only_failed": False, "recursive": True}
    )
    flags["only_failed"] = False
    flags["dependent_dags"] = False  # marking never follows markers (as in Airflow)
    try:
        map_indexes = _map_indexes(request, run, task_ids)
        selected = _selection(run, task_ids, flags, map_indexes)
    except (InvalidSelection, MapIndexError) as exc:
        return _refused(request, dag, run, f"Mark task instances {state}", str(exc))
    changing = do_mark_state(selected, state, Actor(user=request.user), dry_run=True)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        done = do_mark_state(selected, state, Actor(user=request.user))
        return _done(request, f"Marked {len(done)} task instance(s) {state}.", dag_url(dag.dag_id))
    context = {
        "dag": dag,
        "run": run,
        "title": f"Mark task instances {state}",
        "verb": f"Mark {state}",
        "action_url": dag_url(dag.dag_id, "mark"),
        "task_ids": task_ids,
        "map_indexes": map_indexes,
        "state": state,
        "flags": flags,
        "flag_labels": (
            ("downstream", "Downstream", "also mark the tasks after these"),
            ("upstream", "Upstream", "also mark the tasks before these"),
            (
                "recursive",
                "Recursive",
                "follow upstream/downstream all the way (otherwise only direct neighbours)",
            ),
        ),
        "items": _items(changing, state),
        "explain": f"These task instances are set to {state} now. Running ones are stopped.",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context)


@user_required
def retry(request, dag_id: str):
    """Retry a failed try: clear exactly that one failed task instance."""
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    task_id = _param(request, "task_id")
    try:
        map_indexes = _map_indexes(request, run, [task_id])
        failed = select_task_instances(
            dag.dag_id,
            run_ids=[run.run_id],
            task_ids=[task_id],
            map_indexes={task_id: set(map_indexes)} if map_indexes else None,
            only_failed=True,
        )
    except (InvalidSelection, MapIndexError) as exc:
        return _refused(request, dag, run, "Retry a failed task", str(exc))
    tis = do_clear(failed, Actor(user=request.user), dry_run=True)
    if request.method == "POST" and request.POST.get("confirm") == "1" and tis:
        do_clear(tis, Actor(user=request.user))
        return _done(
            request, f"{task_id} will run again (try {tis[0].try_number + 1}).", dag_url(dag.dag_id)
        )
    context = {
        "dag": dag,
        "run": run,
        "title": "Retry a failed task",
        "verb": "Retry",
        "action_url": dag_url(dag.dag_id, "retry"),
        "task_ids": [task_id],
        "map_indexes": map_indexes,
        "flags": None,
        "items": _items(tis, None),
        "explain": "The failed try is kept with its log; the task runs again as a new try."
        if tis
        else "Nothing to retry: this task instance has not failed.",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context)


# --- DAG and run ---------------------------------------------------------------------------


@user_required
def pause(request, dag_id: str):
    """GET: the dashboard's dialog saying what pausing or unpausing will do; POST: do it."""
    dag = get_dag(dag_id)
    paused = _param(request, "paused") in ("1", "true", "on")
    if request.method != "POST":
        context = {
            "dag": dag,
            "paused": paused,
            "explain": pause_effect(dag, paused),
            "next": _next_url(request, dag_url(dag.dag_id)),
        }
        return _render(request, "dagruns/_pause_confirm.html", context)
    dag = do_set_paused(dag.dag_id, paused, Actor(user=request.user))
    if getattr(request, "htmx", False):
        # The switch is swapped out of band wherever it is shown; the dialog closes.
        response = render(
            request, "dagruns/_pause_toggle.html", {"dag": dag, "can_act": True, "oob": True}
        )
        message = f"{dag.dag_id} is {'paused' if paused else 'active'}."
        response["HX-Trigger"] = json.dumps({"orch:done": {"message": message}})
        return response
    messages.success(request, f"{dag.dag_id} is {'paused' if paused else 'active'}.")
    return redirect(_next_url(request, dag_url(dag.dag_id)))


@user_required
def delete_run(request, dag_id: str):
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    if request.method == "POST" and request.POST.get("confirm") == "1":
        do_delete_run(dag.dag_id, run.run_id, Actor(user=request.user))
        return _done(request, f"Deleted run {run.run_id}.", dag_url(dag.dag_id, "runs"))
    deletion = do_delete_run(dag.dag_id, run.run_id, Actor(user=request.user), dry_run=True)
    context = {
        "dag": dag,
        "run": run,
        "title": "Delete a DAG run",
        "verb": "Delete run",
        "danger": True,
        "action_url": dag_url(dag.dag_id, "delete_run"),
        "task_ids": [],
        "flags": None,
        "items": _items(deletion.task_instances, "deleted"),
        "explain": f"Run {run.run_id} ({run.state}) is deleted with its "
        f"{len(deletion.task_instances)} task instance(s), {deletion.tries} earlier tries and "
        f"{deletion.xcoms} XCom(s). Running tries are stopped.",
        "next": _next_url(request, dag_url(dag.dag_id, "runs")),
    }
    return _render(request, "dagruns/_confirm.html", context)


@user_required
def run_state(request, dag_id: str):
    dag = get_dag(dag_id)
    run = get_run(dag_id, _param(request, "run_id"))
    state = _param(request, "state")
    if state not in (DagRunState.SUCCESS, DagRunState.FAILED):
        problem = _bad_state(state, DagRunState.SUCCESS, DagRunState.FAILED)
        return _refused(request, dag, run, "Mark a run", problem, 400)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        do_set_run_state(dag.dag_id, run.run_id, state, Actor(user=request.user))
        return _done(request, f"Run {run.run_id} marked {state}.", dag_url(dag.dag_id))
    change = do_set_run_state(dag.dag_id, run.run_id, state, Actor(user=request.user), dry_run=True)
    items = [_item(ti, new_state) for ti, new_state in change.task_instances]
    context = {
        "dag": dag,
        "run": run,
        "title": f"Mark run {state}",
        "verb": f"Mark run {state}",
        "action_url": dag_url(dag.dag_id, "run_state"),
        "task_ids": [],
        "state": state,
        "flags": None,
        "items": items,
        "explain": f"Run {run.run_id} goes from {run.state} to {state}; its unfinished task "
        "instances change as listed.",
        "next": _next_url(request, dag_url(dag.dag_id)),
    }
    return _render(request, "dagruns/_confirm.html", context)
