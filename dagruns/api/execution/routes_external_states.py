"""Other DAGs' states for a running task (ExternalTaskSensor): Airflow 3's
`GET /execution/dag-runs/count`, `GET /execution/task-instances/count` and
`GET /execution/task-instances/states`, and `GET /execution/dags/{dag_id}` (whether the DAG
exists: ExternalTaskSensor's check_existence). Read-only; for a running try, or the trigger of a
deferred try (WorkflowTrigger, DagStateTrigger) with its trigger-scoped token."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from dagruns.api.execution.auth import ApiError, StatesReaderAuth, caller_of
from dagruns.api.execution.schemas import ErrorOut
from dagruns.domain import external_states
from dagruns.models import DagModel

router = Router(tags=["external-states"], auth=StatesReaderAuth())
ERRORS = {401: ErrorOut, 403: ErrorOut}
# One sensor asks about a handful of dates and tasks; a bound keeps a query string sane.
MAX_ITEMS = 1000


class DagRunCountQuery(Schema):
    dag_id: str
    logical_dates: list[datetime] | None = Field(default=None, max_length=MAX_ITEMS)
    run_ids: list[str] | None = Field(default=None, max_length=MAX_ITEMS)
    states: list[str] | None = Field(default=None, max_length=MAX_ITEMS)


class TaskInstancesQuery(Schema):
    dag_id: str
    map_index: int | None = None
    task_ids: list[str] | None = Field(default=None, max_length=MAX_ITEMS)
    task_group_id: str | None = None
    logical_dates: list[datetime] | None = Field(default=None, max_length=MAX_ITEMS)
    run_ids: list[str] | None = Field(default=None, max_length=MAX_ITEMS)


class TaskInstanceCountQuery(TaskInstancesQuery):
    states: list[str] | None = Field(default=None, max_length=MAX_ITEMS)


class TaskStatesOut(Schema):
    task_states: dict[str, dict[str, str | None]]


class DagOut(Schema):
    dag_id: str
    is_paused: bool
    # False once its file is gone (the processor deactivates it): Airflow's "was deleted".
    is_active: bool


@router.get("/dag-runs/count", response={200: int, **ERRORS})
def dag_run_count(request: HttpRequest, query: Query[DagRunCountQuery]):
    caller_of(request).require_reader()
    return external_states.dag_run_count(
        query.dag_id, logical_dates=query.logical_dates, run_ids=query.run_ids, states=query.states
    )


@router.get("/task-instances/count", response={200: int, **ERRORS})
def task_instance_count(request: HttpRequest, query: Query[TaskInstanceCountQuery]):
    caller_of(request).require_reader()
    return external_states.task_instance_count(
        query.dag_id,
        map_index=query.map_index,
        task_ids=query.task_ids,
        task_group_id=query.task_group_id,
        logical_dates=query.logical_dates,
        run_ids=query.run_ids,
        states=query.states,
    )


@router.get("/task-instances/states", response={200: TaskStatesOut, **ERRORS})
def task_states(request: HttpRequest, query: Query[TaskInstancesQuery]):
    caller_of(request).require_reader()
    return {
        "task_states": external_states.task_states(
            query.dag_id,
            map_index=query.map_index,
            task_ids=query.task_ids,
            task_group_id=query.task_group_id,
            logical_dates=query.logical_dates,
            run_ids=query.run_ids,
        )
    }


@router.get("/dags/{dag_id}", response={200: DagOut, 404: ErrorOut, **ERRORS})
def get_dag(request: HttpRequest, dag_id: str):
    caller_of(request).require_reader()
    dag = DagModel.objects.filter(dag_id=dag_id).only("dag_id", "is_paused", "is_active").first()
    if dag is None:
        raise ApiError(404, {"reason": "not_found", "message": f"DAG {dag_id!r} not found"})
    return {"dag_id": dag.dag_id, "is_paused": dag.is_paused, "is_active": dag.is_active}
