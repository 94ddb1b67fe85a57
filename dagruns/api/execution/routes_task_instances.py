"""`/execution/task-instances/{id}/…`: claim, heartbeat, finish and log a try."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from dagruns.actions import assets, deferral, tries
from dagruns.api.execution.auth import caller_of
from dagruns.api.execution.schemas import (
    ErrorOut,
    HeartbeatIn,
    LogsIn,
    RunIn,
    RunOut,
    StateIn,
    StateOut,
)
from dagruns.domain.tokens import refreshed_token
from dagruns.domain.versions import fileloc_of_version
from dagruns.models import DagRun, DagRunState, TaskInstance

router = Router(tags=["task-instances"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
REFRESH_HEADER = "Refreshed-API-Token"


@router.patch("/{uuid:ti_id}/run", response={200: RunOut, **ERRORS})
def run(request: HttpRequest, ti_id: uuid.UUID, body: RunIn):
    """Claim the queued try (queued → running) and get what the runner needs to run it."""
    caller = caller_of(request)
    caller.require_task_instance(ti_id)
    ti = tries.do_start_try(
        ti_id,
        caller.claims.try_number,
        hostname=body.hostname,
        pid=body.pid,
        start_date=body.start_date,
    )
    dag_run = ti.dag_run
    version_id = ti.dag_version_id or dag_run.dag_version_id
    ti.expanded_ti_count = tries.expanded_ti_count(ti)  # type: ignore[attr-defined]
    return {
        "dag_run": dag_run,
        "task_instance": ti,
        "dag_fileloc": fileloc_of_version(version_id) if version_id else dag_run.dag.fileloc,
        "previous_successful_dag_run": _previous_successful_run(dag_run),
        "next_method": ti.next_method,
        "next_kwargs": ti.next_kwargs,
        "task_reschedule_count": tries.reschedule_count(ti),
    }


def _previous_successful_run(dag_run: DagRun) -> Mapping[str, Any] | None:
    """Airflow's previous successful DAG run: the latest run of the DAG with an earlier
    logical date that succeeded (none for a run without a logical date). Sent with the claim
    (one indexed query) instead of a second call, since most tasks never ask for it."""
    if dag_run.logical_date is None:
        return None
    return (
        DagRun.objects.filter(
            dag_id=dag_run.dag_id,
            logical_date__lt=dag_run.logical_date,
            state=DagRunState.SUCCESS,
        )
        .order_by("-logical_date")
        .values("data_interval_start", "data_interval_end", "start_date", "end_date")
        .first()
    )


@router.put("/{uuid:ti_id}/heartbeat", response={204: None, **ERRORS})
def heartbeat(request: HttpRequest, ti_id: uuid.UUID, body: HeartbeatIn, response: HttpResponse):
    """The try is alive. 409 means it was cleared or failed meanwhile: kill the task."""
    caller = caller_of(request)
    caller.require_task_instance(ti_id)
    tries.do_heartbeat(ti_id, caller.claims.try_number, hostname=body.hostname, pid=body.pid)
    if caller.claims.needs_refresh():
        response[REFRESH_HEADER] = refreshed_token(caller.claims)
    return Status(204, None)


@router.patch("/{uuid:ti_id}/state", response={200: StateOut, **ERRORS})
def finish(request: HttpRequest, ti_id: uuid.UUID, body: StateIn):
    """End the try; a failure with retries left comes back as up_for_retry."""
    caller = caller_of(request)
    caller.require_task_instance(ti_id)
    if body.logs:
        tries.do_append_log(caller.ti, body.logs)
    if body.state == "deferred":
        return {"state": _defer(ti_id, caller.claims.try_number, body).state}
    if body.state == "up_for_reschedule":
        return _reschedule(ti_id, caller.claims.try_number, body)
    with transaction.atomic():  # the state and the asset events it emits, or neither
        ti = _finish(ti_id, caller.claims.try_number, body)
        if ti.state == "success":
            assets.do_register_task_success_events(ti, _outlet_events(body))
    return {"state": ti.state}


def _outlet_events(body: StateIn) -> list[assets.OutletEvent]:
    return [assets.OutletEvent(**entry.dict()) for entry in body.outlet_events or []]


def _finish(ti_id: uuid.UUID, try_number: int, body: StateIn) -> Any:
    return tries.do_finish_try(
        ti_id,
        try_number,
        state=body.state,
        end_date=body.end_date,
        fail_without_retry=body.fail_without_retry,
        retry_delay_seconds=body.retry_delay_seconds,
        cpu_time=body.cpu_time,
        peak_memory=body.peak_memory,
        rendered_fields=body.rendered_fields,
        branch_task_ids=body.branch_task_ids,
        skip_downstream=body.skip_downstream,
        downstream_tasks_skipped=body.downstream_tasks_skipped,
        rendered_map_index=body.rendered_map_index,
    )


def _defer(ti_id: uuid.UUID, try_number: int, body: StateIn) -> TaskInstance:
    """The try deferred (Airflow 3's TIDeferredStatePayload): hand it to a trigger."""
    assert body.classpath is not None and body.next_method is not None  # the schema checks
    return deferral.do_defer_try(
        ti_id,
        try_number,
        classpath=body.classpath,
        trigger_kwargs=body.trigger_kwargs or {},
        next_method=body.next_method,
        next_kwargs=body.next_kwargs or {},
        trigger_timeout=body.trigger_timeout,
        rendered_map_index=body.rendered_map_index,
    )


def _reschedule(ti_id: uuid.UUID, try_number: int, body: StateIn) -> dict[str, Any]:
    assert body.reschedule_date is not None  # StateIn requires it for this state
    ti = tries.do_reschedule_try(
        ti_id,
        try_number,
        reschedule_date=body.reschedule_date,
        end_date=body.end_date,
        cpu_time=body.cpu_time,
        peak_memory=body.peak_memory,
        rendered_fields=body.rendered_fields,
    )
    return {"state": ti.state}


@router.post("/{uuid:ti_id}/logs", response={204: None, **ERRORS})
def append_logs(request: HttpRequest, ti_id: uuid.UUID, body: LogsIn):
    """Append a chunk of log lines to the try's log file."""
    caller = caller_of(request)
    caller.require_task_instance(ti_id)
    tries.do_append_log(caller.ti, body.lines)
    return Status(204, None)
