"""The one Celery task: run one try of a task instance (PostHog's thin-task style).

It carries the typed workload as JSON (scheduler/runner/workload.py) and hands it to the same
task runner the local executor starts, forked from the worker's forkserver for the pool thread
that runs this task (scheduler/worker/forked.py), or, on a worker started with `--pods` or for a
task whose executor_config asks for a pod, to that runner in a Kubernetes pod
(scheduler/worker/pods.py).
Its return value is the runner's exit code (scheduler/runner/exit_codes.py), or for a pod a
RunTryResult's JSON (the code, and why the pod ended so, and what its container printed), which
the executor reads from the result backend to learn that a runner ended without reporting.

Acknowledged late, and rejected back to the queue when a prefork pool process running it is
lost (orchestrator_site/celery.py): a message is never lost with its worker, and a second delivery
is refused at the Execution API's claim.

Importing this module imports no Django (the import-linter contract "worker-no-django").
"""

from __future__ import annotations

import json
import os
from typing import Any

from orchestrator_site.celery import RUN_TRY_TASK, app
from scheduler.runner.exit_codes import EXIT_INVALID_WORKLOAD
from scheduler.runner.workload import InvalidWorkload, Workload
from scheduler.worker import forked, hooks, pods  # noqa: F401 — hooks: the worker's signal handlers


@app.task(
    name=RUN_TRY_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
    # Celery must not retry: a try's retries are the scheduler's business (the task's retries).
    max_retries=0,
)
def run_try(
    self: Any, workload_json: str, ti_id: str = "", try_number: int = 0
) -> int | dict[str, Any]:
    """Run the workload's try through the task runner; the runner's exit code (for a pod, a
    RunTryResult's JSON)."""
    worker_name = str(self.request.hostname or "")
    # The worker's own ORCH_API_URL, when set, is where its runners report (Airflow 3: the
    # worker's execution_api_server_url); otherwise the scheduler's, carried in the workload.
    api_url = os.environ.get("ORCH_API_URL") or None
    data = _json_object(workload_json)
    if data is None or not pods.wants_pod(data.get("executor_config")):
        return forked.run_try(workload_json, worker_name, ti_id, try_number, api_url)
    if api_url:
        data["api_url"] = api_url
    try:
        workload = Workload.parse(data)
    except InvalidWorkload as exc:
        # The runner would refuse it the same way, before claiming anything.
        return {"returncode": EXIT_INVALID_WORKLOAD, "reason": f"Invalid workload: {exc}"}
    return pods.run_try_in_pod(workload, worker_name).model_dump()


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None  # the runner refuses it with a message naming the problem
    return data if isinstance(data, dict) else None
