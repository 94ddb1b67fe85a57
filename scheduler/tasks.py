"""The one Celery task: run one try of a task instance (PostHog's thin-task style).

It carries the typed workload as JSON (scheduler/runner/workload.py) and hands it to the same
task runner the local executor starts, forked from the worker's forkserver for the pool thread
that runs this task (scheduler/worker/forked.py).
Its return value is the runner's exit code (scheduler/runner/exit_codes.py), which the executor
reads from the result backend to learn that a runner ended without reporting.

Acknowledged late, and rejected back to the queue when a prefork pool process running it is
lost (orchestrator_site/celery.py): a message is never lost with its worker, and a second delivery
is refused at the Execution API's claim.

Importing this module imports no Django (the import-linter contract "worker-no-django").
"""

from __future__ import annotations

import os
from typing import Any

from orchestrator_site.celery import RUN_TRY_TASK, app
from scheduler.worker import forked, hooks  # noqa: F401 — hooks: the worker's signal handlers


@app.task(
    name=RUN_TRY_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
    # Celery must not retry: a try's retries are the scheduler's business (the task's retries).
    max_retries=0,
)
def run_try(self: Any, workload_json: str, ti_id: str = "", try_number: int = 0) -> int:
    """Run the workload's try through the task runner; the runner's exit code."""
    worker_name = str(self.request.hostname or "")
    # The worker's own ORCH_API_URL, when set, is where its runners report (Airflow 3: the
    # worker's execution_api_server_url); otherwise the scheduler's, carried in the workload.
    api_url = os.environ.get("ORCH_API_URL") or None
    return forked.run_try(workload_json, worker_name, ti_id, try_number, api_url)
