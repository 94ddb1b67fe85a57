"""The DAG processor's share of callbacks: claim the requests the scheduler wrote when runs
ended (and the triggerer when a trigger failed a task that has an on_failure_callback), run each
in a subprocess with the DAG's file (scheduler/processor/callback_child.py), and put what it
printed, logged or raised in the run's callback log.

Why here and not in the scheduler: as in Airflow 3, DAG callbacks are user code, and only the
DAG processor imports user code (in subprocesses, with a timeout); the scheduler must never hang
or crash on a DAG's callback. A callback that raises, hangs past ORCH_DAG_FILE_PROCESSOR_TIMEOUT
or kills its interpreter fails only its request (`outcome=failed`, the reason in `error` and in
the log). Several processors may run: a request is claimed by a conditional UPDATE, so one runs
it; a claim left by a processor that died is taken again once it is older than the timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from django.db.models import Q
from django.utils import timezone

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.domain.logs import append_lines
from dagruns.models import DagCallbackRequest, TaskInstance
from dagruns.models.states import TI_FAILED_LIKE
from dagruns.notify import events
from scheduler.processor.callback_child import (
    CALLBACK_RAISED,
    CallbackDagRun,
    CallbackTaskInstance,
    DagCallbackJob,
)

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# At most this many requests per processor tick, so parsing is never starved for long.
MAX_PER_TICK = 16
# What a callback may print into the log per run of it; the rest is cut (with a note).
MAX_OUTPUT_BYTES = 1024 * 1024


def run_pending_callbacks(
    timeout: float, extra_sys_path: list[str], dag_run_id: int | None = None
) -> int:
    """Run up to MAX_PER_TICK waiting callback requests, oldest first (only `dag_run_id`'s
    when given: `dags test` runs its own run's); returns how many ran."""
    now = timezone.now()
    stale = now - timedelta(seconds=timeout * 2 + 30)
    pending = DagCallbackRequest.objects.filter(finished_at__isnull=True)
    if dag_run_id is not None:
        pending = pending.filter(dag_run_id=dag_run_id)
    waiting = (
        pending.filter(Q(started_at__isnull=True) | Q(started_at__lt=stale))
        .order_by("created_at", "pk")
        .values_list("pk", "started_at")[:MAX_PER_TICK]
    )
    done = 0
    for pk, started_at in list(waiting):
        # The claim: only the processor whose UPDATE still sees the old started_at runs it.
        claimed = DagCallbackRequest.objects.filter(pk=pk, started_at=started_at).update(
            started_at=timezone.now()
        )
        if not claimed:
            continue
        request = DagCallbackRequest.objects.select_related("dag_run").get(pk=pk)
        _run_one(request, timeout, extra_sys_path)
        done += 1
    return done


def _run_one(request: DagCallbackRequest, timeout: float, extra_sys_path: list[str]) -> None:
    name = request.callback_name
    path = callback_log_path(request.dag_id, request.run_id)
    whose = f"the {name}" if request.task_id else f"the DAG's {name}"
    _log(path, f"INFO - Running {whose} (reason: {request.reason}) from {request.fileloc}")
    job = _job(request, timeout, extra_sys_path)
    error = ""
    try:
        returncode, output = _run_child(job, timeout)
        _log_output(path, output)
        if returncode is None:
            error = (
                f"{name} took longer than {timeout:g} s (ORCH_DAG_FILE_PROCESSOR_TIMEOUT) "
                "and was killed"
            )
        elif returncode == CALLBACK_RAISED:
            error = f"{name} raised an exception (see the traceback above)"
        elif returncode != 0:
            error = f"{name} did not run: the callback process exited with {returncode}"
    except OSError as exc:
        error = f"{name} could not be started: {exc}"
    outcome = DagCallbackRequest.Outcome.FAILED if error else DagCallbackRequest.Outcome.SUCCESS
    _log(path, f"ERROR - {error}" if error else f"INFO - {name} finished")
    if error:
        log.warning("DAG %s run %s: %s", request.dag_id, request.run_id, error)
    DagCallbackRequest.objects.filter(pk=request.pk).update(
        finished_at=timezone.now(), outcome=outcome, error=error
    )
    events.notify("run", dag_id=request.dag_id, run_id=request.run_id)


def _run_child(job: DagCallbackJob, timeout: float) -> tuple[int | None, bytes]:
    """(exit code, output) of the child; exit code None when it outlived `timeout` and was
    killed together with whatever it started (its own process group)."""
    env = dict(os.environ)
    # The child imports the SDK by module path, whatever the processor's working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [sys.executable, "-m", "scheduler.processor.callback_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        output, _ = child.communicate(job.model_dump_json().encode(), timeout=timeout)
        return child.returncode, output
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        output, _ = child.communicate()
        return None, output


def _job(request: DagCallbackRequest, timeout: float, extra_sys_path: list[str]) -> DagCallbackJob:
    run = request.dag_run
    failed = None
    if request.task_id:  # a task's callback: its own task instance
        failed = TaskInstance.objects.filter(
            dag_run_id=run.pk, task_id=request.task_id, map_index=request.map_index
        ).first()
    elif request.is_failure:
        failed = (
            TaskInstance.objects.filter(dag_run_id=run.pk, state__in=TI_FAILED_LIKE)
            .order_by("-end_date", "task_id")
            .first()
        )
    return DagCallbackJob(
        fileloc=request.fileloc,
        dag_id=request.dag_id,
        is_failure=request.is_failure,
        reason=request.reason,
        dag_run=CallbackDagRun(
            dag_id=run.dag_id,
            run_id=run.run_id,
            run_type=run.run_type,
            state=run.state,
            logical_date=run.logical_date,
            data_interval_start=run.data_interval_start,
            data_interval_end=run.data_interval_end,
            run_after=run.run_after,
            start_date=run.start_date,
            end_date=run.end_date,
            conf=run.conf if isinstance(run.conf, dict) else {},
        ),
        ti=CallbackTaskInstance(
            dag_id=failed.dag_id,
            run_id=failed.run_id,
            task_id=failed.task_id,
            map_index=failed.map_index,
            try_number=request.try_number or failed.try_number,
            state=failed.state,
        )
        if failed is not None
        else None,
        task_id=request.task_id or None,
        extra_sys_path=extra_sys_path,
        import_timeout=timeout,
    )


def _log(path: Path, line: str) -> None:
    append_lines(path, [f"[{_stamp(timezone.now())}] {line}"])


def _log_output(path: Path, output: bytes) -> None:
    if len(output) > MAX_OUTPUT_BYTES:
        cut = len(output) - MAX_OUTPUT_BYTES
        output = output[:MAX_OUTPUT_BYTES] + f"\n... ({cut} more bytes cut)".encode()
    lines = output.decode("utf-8", errors="replace").splitlines()
    if lines:
        append_lines(path, lines)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
