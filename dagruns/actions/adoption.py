"""A scheduler taking over a try another scheduler launched (Airflow's executor adoption:
`try_adopt_task_instances`), when the try's runner outlives its scheduler (a Kubernetes pod).

The claim is one conditional UPDATE of the try's `queued_by_job_id`, from the launcher it was
read with to the adopter: of two schedulers adopting the same try at once, exactly one changes
the row; the other sees 0 rows and leaves the try (and its pod) alone."""

from __future__ import annotations

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
