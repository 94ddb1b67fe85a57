"""Running one DAG's `on_success_callback` / `on_failure_callback`, or one task's
`on_failure_callback` (Airflow's TaskCallbackRequest: a task its trigger failed in the
triggerer) — the code of the subprocess the DAG processor starts for each callback request
(`python -m scheduler.processor.callback_child`).

Like the parser children it imports the SDK only, never Django or the ORM: the callback is user
code, imported from the DAG's own file, and a callback that hangs, crashes or exits must not take
the processor with it. The request arrives on stdin as a `DagCallbackJob` (JSON); whatever the
callbacks print or log goes to stdout/stderr, which the processor appends to the run's callback
log. The exit code says how it went: 0 every callback ran, 1 a callback raised, 2 the DAG could
not be loaded.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from dagruns.sdk.dag_loader import import_dag_file
from dagruns.sdk.params import ParamsDict

CALLBACK_RAISED = 1
DAG_NOT_LOADED = 2

log = logging.getLogger("airflow.processor.callbacks")


class CallbackDagRun(BaseModel):
    """The finished run, as a callback's `context["dag_run"]` shows it (read-only)."""

    model_config = ConfigDict(frozen=True)

    dag_id: str
    run_id: str
    run_type: str
    state: str
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    conf: dict[str, Any] = {}


class CallbackTaskInstance(BaseModel):
    """`context["ti"]`: for a DAG's failure callback the last failed task instance of the run;
    for a task's callback the try it is for."""

    model_config = ConfigDict(frozen=True)

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int
    state: str | None = None


class DagCallbackJob(BaseModel):
    """What the processor sends the child: which callback of which DAG, for which run."""

    version: int = 1
    fileloc: str
    dag_id: str
    is_failure: bool
    reason: str
    dag_run: CallbackDagRun
    ti: CallbackTaskInstance | None = None
    # A task's callback (then `ti` is its try), not the DAG's.
    task_id: str | None = None
    extra_sys_path: list[str] = []
    import_timeout: float | None = None

    @property
    def name(self) -> str:
        which = "on_failure_callback" if self.is_failure else "on_success_callback"
        return f"task {self.task_id}'s {which}" if self.task_id else which


def context_for(job: DagCallbackJob, dag: Any) -> dict[str, Any]:
    """Airflow 3's DAG-callback context: dag, run_id and reason, plus the run (dag_run, its
    dates, conf and params) and, for a failure, the task instance that failed last (ti)."""
    run = job.dag_run
    params = ParamsDict(dag.params.copy())
    params.update(run.conf)
    context: dict[str, Any] = {
        "dag": dag,
        "dag_run": run,
        "run_id": run.run_id,
        "reason": job.reason,
        "logical_date": run.logical_date,
        "data_interval_start": run.data_interval_start,
        "data_interval_end": run.data_interval_end,
        "params": params,
        "conf": run.conf,
    }
    if run.logical_date is not None:
        context["ds"] = run.logical_date.strftime("%Y-%m-%d")
        context["ts"] = run.logical_date.isoformat()
    if job.ti is not None:
        context["ti"] = context["task_instance"] = job.ti
    return context


def run_callbacks(callbacks: Any, context: dict[str, Any], name: str) -> bool:
    """Call each callback (Airflow accepts one or a list); a raising one is logged with its
    traceback and the next still runs. True when none raised."""
    items: Iterable[Any] = callbacks if isinstance(callbacks, list | tuple) else [callbacks]
    ok = True
    for callback in items:
        label = getattr(callback, "__qualname__", repr(callback))
        log.info("Executing %s %s", name, label)
        try:
            callback(context)
        except Exception:
            ok = False
            log.error("%s %s raised:\n%s", name, label, traceback.format_exc().rstrip())
    return ok


def main() -> int:
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="[%(asctime)s] %(levelname)s - %(message)s",
        force=True,
    )
    job = DagCallbackJob.model_validate_json(sys.stdin.read())
    for entry in reversed(job.extra_sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    name = job.name
    try:
        dags = {dag.dag_id: dag for dag in import_dag_file(job.fileloc, job.import_timeout)}
    except BaseException:
        log.error("Could not load %s to run %s:\n%s", job.fileloc, name, traceback.format_exc())
        return DAG_NOT_LOADED
    dag = dags.get(job.dag_id)
    if dag is None:
        log.error("DAG %r is no longer defined in %s: %s not run", job.dag_id, job.fileloc, name)
        return DAG_NOT_LOADED
    context = context_for(job, dag)
    owner: Any = dag
    if job.task_id is not None:
        owner = dag.task_dict.get(job.task_id)
        if owner is None:
            log.error("Task %r is no longer in DAG %r: %s not run", job.task_id, job.dag_id, name)
            return DAG_NOT_LOADED
        context["task"] = owner
    callbacks = owner.on_failure_callback if job.is_failure else owner.on_success_callback
    if not callbacks:
        log.info("%s has no %s any more: nothing to run", _label(job), name)
        return 0
    sys.stdout.flush()
    return 0 if run_callbacks(callbacks, context, name) else CALLBACK_RAISED


def _label(job: DagCallbackJob) -> str:
    return f"Task {job.task_id!r}" if job.task_id else f"DAG {job.dag_id!r}"


if __name__ == "__main__":
    sys.exit(main())
