"""`/execution/task-reschedules/{id}/start_date`: where a reschedule-mode sensor's timeout
started counting (Airflow 3's route of the same path)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from dagruns.actions import tries
from dagruns.api.execution.auth import caller_of
from dagruns.api.execution.schemas import ErrorOut

router = Router(tags=["task-reschedules"])


class StartDateQuery(Schema):
    # The try the count starts at: Airflow's SDK sends the first try since the last clear
    # (max_tries - retries + 1), so a retried sensor keeps its clock.
    try_number: int = Field(default=1, ge=1)


@router.get(
    "/{uuid:ti_id}/start_date",
    response={200: datetime | None, 401: ErrorOut, 403: ErrorOut},
)
def get_start_date(request: HttpRequest, ti_id: uuid.UUID, query: Query[StartDateQuery]):
    """The start date of the first reschedule since `try_number`; null when there is none."""
    caller = caller_of(request)
    caller.require_task_instance(ti_id)
    caller.require_running()
    return tries.first_reschedule_start(ti_id, query.try_number)
