"""A scheduler taking over a try another scheduler launched (Airflow's executor adoption:
`try_adopt_task_instances`), when the try's runner outlives its scheduler (a Kubernetes pod, a
Celery message).

The claim is one conditional UPDATE of the try's `queued_by_job_id`, from the launcher it was
read with to the adopter: of two schedulers adopting the same try at once, exactly one changes
the row; the other sees 0 rows and leaves the try (and its pod) alone."""

from __future__ import annotations

from django.db.models import Case, F, Value, When

from dagruns.models import TaskInstance, TaskInstanceState

TIS = TaskInstanceState


def claim_try(ti_id: str, try_number: int, previous_job_id: int | None, job_id: int) -> bool:
    """Make scheduler `job_id` the owner of this try, if it is still queued or running at
    `try_number` and still owned by `previous_job_id`. True when this call took it."""
    changed = TaskInstance.objects.filter(
        pk=ti_id,
        try_number=try_number,
        state__in=(TIS.QUEUED, TIS.RUNNING),
        queued_by_job_id=previous_job_id,
    ).update(queued_by_job_id=job_id)
    return changed == 1


def record_external_executor_ids(ids: dict[tuple[str, int], str]) -> int:
    """Store each try's executor id (Airflow's external_executor_id: a Celery message id),
    keyed by (ti id, try number), in one UPDATE; a try that moved on to another try number
    meanwhile keeps what it has. Returns how many rows changed."""
    if not ids:
        return 0
    whens = [
        When(pk=ti_id, try_number=try_number, then=Value(external_id))
        for (ti_id, try_number), external_id in ids.items()
    ]
    return TaskInstance.objects.filter(pk__in=[ti_id for ti_id, _ in ids]).update(
        external_executor_id=Case(*whens, default=F("external_executor_id"))
    )
