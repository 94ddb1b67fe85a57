"""`/execution/dag-runs/{dag_id}/{run_id}`: what a running TriggerDagRunOperator asks of the
server (Airflow 3's execution API `dag_runs` routes). Triggering and clearing go through the
same actions as the UI, CLI and REST API; the new run records the task instance whose try
triggered it, and its `triggered_by` is "operator".

Only a live try may call them (Caller.require_running), like every data route; reading a run's
state is also open to the trigger of a deferred try (DagStateTrigger: Caller.require_reader).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from dagruns.actions.audit import Actor
from dagruns.actions.dags import DagNotFound
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.actions.task_instances import do_clear_run
from dagruns.api.execution.auth import ApiError, Caller, StatesReaderAuth, caller_of
from dagruns.api.execution.schemas import ErrorOut
from dagruns.api.execution.schemas_dag_runs import DagRunStateResponse, TriggerDAGRunPayload
from dagruns.models import DagRun, DagRunTriggeredBy

router = Router(tags=["dag-runs"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _actor(caller: Caller) -> Actor:
    ti = caller.ti
    return Actor(name=f"task:{ti.dag_id}.{ti.task_id}")


def _run_or_404(dag_id: str, run_id: str) -> DagRun:
    run = DagRun.objects.filter(dag_id=dag_id, run_id=run_id).first()
    if run is None:
        raise ApiError(
            404,
            {"reason": "not_found", "message": f"DAG run {run_id!r} of DAG {dag_id!r} not found"},
        )
    return run


@router.post("/{dag_id}/{run_id}", response={204: None, 409: ErrorOut, **ERRORS})
def trigger_dag_run(request: HttpRequest, dag_id: str, run_id: str, body: TriggerDAGRunPayload):
    """Create the run (409 `already_exists` when the DAG has a run with this id or logical
    date; with `reset_dag_run` that run is cleared instead, as Airflow's operator does)."""
    caller = caller_of(request)
    caller.require_running()
    existing = DagRun.objects.filter(dag_id=dag_id, run_id=run_id).first()
    if existing is None and body.logical_date is not None:
        existing = DagRun.objects.filter(dag_id=dag_id, logical_date=body.logical_date).first()
    if existing is not None:
        if not body.reset_dag_run:
            raise ApiError(
                409,
                {
                    "reason": "already_exists",
                    "message": f"A run already exists for DAG {dag_id!r} with run_id "
                    f"{existing.run_id!r}",
                    "run_id": existing.run_id,
                },
            )
        with transaction.atomic():
            do_clear_run(dag_id, existing.run_id, _actor(caller))
            DagRun.objects.filter(pk=existing.pk).update(triggered_by_ti=caller.ti)
        return Status(204, None)
    try:
        do_trigger_dag(
            dag_id,
            _actor(caller),
            conf=body.conf,
            run_id=run_id,
            logical_date=body.logical_date,
            use_now_as_logical_date=False,
            triggered_by=DagRunTriggeredBy.OPERATOR,
            triggered_by_ti=caller.ti,
        )
    except DagNotFound as exc:
        raise ApiError(404, {"reason": "not_found", "message": str(exc)}) from None
    except TriggerError as exc:
        raise ApiError(400, {"reason": "invalid", "message": str(exc)}) from None
    return Status(204, None)


@router.get(
    "/{dag_id}/{run_id}/state",
    response={200: DagRunStateResponse, **ERRORS},
    auth=StatesReaderAuth(),
)
def get_dag_run_state(request: HttpRequest, dag_id: str, run_id: str):
    caller_of(request).require_reader()
    return {"state": _run_or_404(dag_id, run_id).state}
