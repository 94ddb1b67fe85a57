"""Other DAGs' states for a running task (ExternalTaskSensor): Airflow 3's
`GET /execution/dag-runs/count`, `GET /execution/task-instances/count` and
`GET /execution/task-instances/states`. Read-only; for a running try only."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from dagruns.api.execution.auth import caller_of
from dagruns.api.execution.schemas import ErrorOut
from dagruns.domain import external_states

router = Router(tags=["external-states"])
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


@router.get("/dag-runs/count", response={200: int, **ERRORS})
def dag_run_count(request: HttpRequest, query: Query[DagRunCountQuery]):
    caller_of(request).require_running()
    return external_states.dag_run_count(
        query.dag_id, logical_dates=query.logical_dates, run_ids=query.run_ids, states=query.states
    )


@router.get("/task-instances/count", response={200: int, **ERRORS})
def task_instance_count(request: HttpRequest, query: Query[TaskInstanceCountQuery]):
    caller_of(request).require_running()
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
    caller_of(request).require_running()
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
