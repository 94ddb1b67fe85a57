"""The task process: forked by the supervisor, runs one try of one task, reports the outcome.

It imports the DAG file, finds the task, builds the context, renders the template fields,
runs the callbacks and `execute()`, pushes the return value as XCom, and sends the outcome to
the supervisor over the control channel — it never talks HTTP and never touches the database.
Its stdout and stderr are a pipe the supervisor reads (and masks and ships as the try's log);
Python logging writes there too, in Airflow's format.

It leads its own process group so the supervisor can kill it together with everything it
started (SIGTERM first: the handler calls the operator's `on_kill()` and raises
AirflowTaskTimeout when the execution_timeout has passed, AirflowTaskTerminated otherwise).
If the supervisor itself dies (e.g. the executor killed it), the kernel kills the task process
(parent-death signal, scheduler/runner/fencing.py; a polling watchdog thread where that is not
available).

Secrets: the supervisor masks connection passwords and sensitive variables it fetched for the
task before answering; `mask_secret()` asks it to mask any other value.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from dagruns.sdk import runtime as sdk_runtime
from dagruns.sdk.assets.accessors import drain_metadata
from dagruns.sdk.dag_loader import import_dag_file
from dagruns.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    DownstreamTasksSkipped,
    ParamValidationError,
    TaskDeferred,
    TaskNotFound,
    TemplateRenderError,
)
from dagruns.sdk.retry_policy import RetryAction, RetryDecision
from dagruns.sdk.serialization import json_safe
from dagruns.sdk.triggers import BaseTrigger
from dagruns.sdk.triggers.serde import decode_kwargs, encode_kwargs
from dagruns.sdk.xcom_arg import push_return_value
from scheduler.runner.comms import SupervisorComms, SupervisorGone
from scheduler.runner.context import (
    DagRunInfo,
    PreviousDagRun,
    RuntimeTaskInstance,
    build_context,
)
from scheduler.runner.downstream_skips import requested_skips
from scheduler.runner.mapping import mapped_length_of_result, rendered_map_index, unmap_for
from scheduler.runner.messages import Deferral, TaskResult
from scheduler.runner.task_runtime import CommsRuntime
from scheduler.runner.task_test import TaskTest
from scheduler.runner.workload import Workload

LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"
# Airflow's [core] max_templated_field_length: longer rendered values are stored truncated.
MAX_RENDERED_FIELD_LENGTH = 4096
WATCHDOG_INTERVAL = 1.0

log = logging.getLogger("airflow.task")


class AirflowTaskTerminated(BaseException):
    """The task was told to stop (SIGTERM): cleared, marked, or the worker is shutting down.
    A BaseException, like AirflowTaskTimeout, so `except Exception` cannot swallow it."""


class DagNotFound(AirflowException):
    """The DAG file does not define the DAG the workload names."""


class _Runtime:
    """What the SIGTERM handler needs to know."""

    task: Any = None
    deadline: float | None = None  # time.monotonic() value, shared clock with the supervisor
    timeout: float | None = None
    interruptible = True
    critical = 0  # > 0 while talking to the supervisor: SIGTERM waits until it is done
    deferred = False
    comms: SupervisorComms | None = None


_runtime = _Runtime()


def mask_secret(*values: Any) -> None:
    """Hide these values in the task's log from now on (Airflow's `mask_secret`), for secrets
    a task gets from somewhere other than a connection or a sensitive variable (those are
    masked already). Returns once the supervisor has registered them. Outside a task process
    it does nothing."""
    if _runtime.comms is not None:
        _runtime.comms.mask(*values)


def main(
    workload: Workload,
    claim: dict[str, Any],
    sock: socket.socket,
    out_fd: int,
    deadline: float | None,
    *,
    watchdog: bool = True,
    task_test: TaskTest | None = None,
) -> NoReturn:
    """Entry point in the forked child; never returns. `watchdog`: poll for the supervisor's
    death (only where the kernel's parent-death signal is not available, see fencing.py)."""
    code = 1
    try:
        _setup_process(out_fd, watchdog)
        _runtime.deadline = deadline
        _runtime.timeout = workload.execution_timeout
        comms = _runtime.comms = SupervisorComms(sock, guard=deferring_sigterm)
        if task_test is not None:
            task_test.apply_environment()
        result = run_task(workload, claim, comms, task_test=task_test)
        _runtime.interruptible = False
        comms.send_result(TaskResult(**result))
        code = 0
    except SystemExit as exc:
        # sys.exit() in task code ends the process without a result, like a crash; the
        # supervisor logs the exit code and fails the try.
        code = _exit_code(exc)
    except SupervisorGone:
        code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


# -- process setup ---------------------------------------------------------------------


def _setup_process(out_fd: int, watchdog: bool = True) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    if out_fd > 2:
        os.close(out_fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = _text_stream(1)
    sys.stderr = _text_stream(2)

    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGUSR1", "SIGUSR2", "SIGHUP", "SIGALRM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)

    _configure_logging()
    if watchdog:
        _start_watchdog(os.getppid())


def _text_stream(fd: int) -> io.TextIOWrapper:
    # Line-buffered: a print() reaches the log at once and in order with logging's lines.
    return io.TextIOWrapper(
        io.FileIO(fd, "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )


def _configure_logging() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(LOG_FORMAT)
    formatter.converter = time.gmtime  # UTC, like every other time the system shows
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _start_watchdog(supervisor_pid: int) -> None:
    """When the supervisor dies (SIGKILL from the executor), we are reparented: take the whole
    task process group down, as the executor meant to."""

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_INTERVAL)
            if os.getppid() != supervisor_pid:
                try:
                    os.killpg(0, signal.SIGKILL)
                finally:
                    os._exit(1)

    threading.Thread(target=watch, name="supervisor-watchdog", daemon=True).start()


@contextlib.contextmanager
def deferring_sigterm() -> Iterator[None]:
    """A SIGTERM arriving inside the block is acted on when the block ends. Only the main
    thread runs signal handlers, so only its blocks count."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _runtime.critical += 1
    try:
        yield
    finally:
        _runtime.critical -= 1
        if not _runtime.critical and _runtime.deferred and _runtime.interruptible:
            _runtime.deferred = False
            _interrupt()


def _on_sigterm(signum: int, frame: Any) -> None:
    if not _runtime.interruptible:
        return
    if _runtime.critical:
        _runtime.deferred = True
        return
    _interrupt()


def _interrupt() -> None:
    _runtime.interruptible = False  # one interruption; cleanup code must not be cut short
    task = _runtime.task
    if task is not None:
        try:
            task.on_kill()
        except Exception:
            log.exception("on_kill of task %r failed", getattr(task, "task_id", task))
    deadline = _runtime.deadline
    if deadline is not None and time.monotonic() >= deadline:
        raise AirflowTaskTimeout(
            f"Timeout: the task exceeded its execution_timeout of {_runtime.timeout:g} s"
        )
    raise AirflowTaskTerminated("Task received SIGTERM signal")


# -- running the task ------------------------------------------------------------------


def load_task(workload: Workload, claim: dict[str, Any]) -> tuple[Any, Any]:
    """Import the DAG file and return (dag, task); errors say what is missing where."""
    fileloc = workload.dag_fileloc or claim.get("dag_fileloc")
    if not fileloc:
        raise AirflowException("The workload names no DAG file (dag_fileloc is empty)")
    if not os.path.exists(fileloc):
        raise AirflowException(f"DAG file {fileloc} does not exist (any more)")
    warn_if_not_the_pinned_file(fileloc, workload.dag_source_hash)
    folder = workload.dags_folder
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
    plugins = workload.plugins_folder
    if plugins and plugins not in sys.path:
        sys.path.append(plugins)
    with sdk_runtime.parsing_context(workload.dag_id, workload.task_id):
        dags = import_dag_file(fileloc)
    dag_id = workload.dag_id
    dag = next((d for d in dags if d.dag_id == dag_id), None)
    if dag is None:
        defined = ", ".join(sorted(d.dag_id for d in dags)) or "none"
        raise DagNotFound(f"DAG {dag_id!r} not found in {fileloc} (it defines: {defined})")
    task_id = workload.task_id
    if not dag.has_task(task_id):
        raise TaskNotFound(f"Task {task_id!r} not found in DAG {dag_id!r} ({fileloc})")
    return dag, dag.get_task(task_id)


def file_hash(path: str) -> str:
    """The DAG processor's hash of a DAG file (scheduler/processor/files.py content_hash:
    SHA-256 of its bytes), computed here because the runner does not import the engine."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def warn_if_not_the_pinned_file(fileloc: str, pinned: str | None) -> None:
    """Say in the try's log when this host's DAG file is not the one the run's DAG version
    was parsed from (DAG files reach worker hosts through a shared folder; a copy that lags
    or leads shows here). The task still runs, from this file, as Airflow runs an
    unversioned (local) bundle's current file; we do not fetch the pinned version's code."""
    if not pinned:
        return
    try:
        actual = file_hash(fileloc)
    except OSError:
        return  # importing it reports the problem
    if actual != pinned:
        log.warning(
            "DAG file %s on this host (%s) differs from the version this run is pinned to: "
            "the DAG processor parsed a file with SHA-256 %s, this file has %s. The task runs "
            "as this file defines it; make every host see the same DAGs folder.",
            fileloc,
            socket.gethostname(),
            pinned[:12],
            actual[:12],
        )


def _run_execute_hook(task: Any, stage: str, context: dict[str, Any], *result: Any) -> None:
    """Airflow's order around execute(): the `pre_execute=`/`post_execute=` callable, then the
    operator's own pre_execute/post_execute (no-ops unless overridden; Airflow 3 calls an
    overridden post_execute with the context alone). A hook that is a generator yields
    Metadata for the task's outlets, as a TaskFlow task may. What a hook raises fails the try
    like execute() raising."""
    hook = getattr(task, f"_{stage}_execute_hook", None)
    for call, args in ((hook, (context, *result)), (getattr(task, f"{stage}_execute"), (context,))):
        if call is None:
            continue
        returned = call(*args)
        if inspect.isgenerator(returned):
            drain_metadata(returned, context["outlet_events"], log)


def run_task(
    workload: Workload, claim: dict[str, Any], comms: Any, *, task_test: TaskTest | None = None
) -> dict[str, Any]:
    """Run the try and return the outcome for the supervisor. Only SystemExit escapes.
    `task_test`: the try is run by `manage.py tasks test` (scheduler/runner/task_test.py).

    Variable, Connection and BaseHook calls are answered through the supervisor from the DAG
    file's import on (a top-level `Variable.get` runs here too, as in Airflow's runner)."""
    sdk_runtime.install(CommsRuntime(comms))
    result: dict[str, Any] = {
        "state": "failed",
        "fail_without_retry": False,
        "retry_delay_seconds": None,
        "rendered_fields": None,
        "branch_task_ids": None,
        "skip_downstream": None,
        "downstream_tasks_skipped": None,
        "rendered_map_index": None,
        "outlet_events": None,
        "deferral": None,
        "reschedule_date": None,
    }
    ti_data = claim.get("task_instance") or {}
    dag_run = DagRunInfo.from_api(
        claim.get("dag_run") or {"dag_id": workload.dag_id, "run_id": workload.run_id}
    )
    try_number = int(ti_data.get("try_number", workload.try_number))
    max_tries = int(ti_data.get("max_tries", 0))

    try:
        dag, task = load_task(workload, claim)
    except SystemExit:
        raise
    except (DagNotFound, TaskNotFound) as exc:
        log.error("%s", exc)
        return result
    except BaseException:
        log.error(
            "Failed to import DAG file %s:\n%s",
            workload.dag_fileloc,
            traceback.format_exc().rstrip(),
        )
        return result

    if task_test is not None:
        task_test.apply_params(task)
    _runtime.task = task
    ti = RuntimeTaskInstance(
        comms,
        id=workload.ti_id,
        dag_id=dag.dag_id,
        run_id=dag_run.run_id,
        task_id=task.task_id,
        map_index=int(ti_data.get("map_index", workload.map_index)),
        try_number=try_number,
        max_tries=max_tries,
        task=task,
        hostname=socket.gethostname(),
    )
    log.info(
        "Executing %r of DAG %r, run %r, try %d of %d",
        task,
        dag.dag_id,
        dag_run.run_id,
        try_number,
        max_tries + 1,
    )
    context: dict[str, Any] = {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
    }
    error: BaseException | None = None
    state = "failed"
    try:
        context = build_context(
            task=task,
            dag=dag,
            dag_run=dag_run,
            ti=ti,
            comms=comms,
            previous=PreviousDagRun.from_api(claim.get("previous_successful_dag_run")),
            expanded_ti_count=ti_data.get("expanded_ti_count"),
            task_reschedule_count=int(claim.get("task_reschedule_count") or 0),
            test_mode=task_test is not None,
        )
        # get_current_context() answers from here to the end of the try (callbacks too).
        sdk_runtime.use_context(context)
        # A mapped task's instance runs the real operator made with its own values.
        task = unmap_for(task, context, ti.map_index)
        context["task"] = ti.task = _runtime.task = task
        task.render_template_fields(context)
        result["rendered_fields"] = rendered_fields(task)
        _run_execute_hook(task, "pre", context)
        _run_callbacks(task.on_execute_callback, context, "on_execute_callback")
        next_method = claim.get("next_method")
        if next_method:
            # Resuming after a deferral: the same try goes on where the trigger sent it.
            log.info("Resuming %r at %s after its trigger", task, next_method)
            value = task.resume_execution(
                next_method, decode_kwargs(claim.get("next_kwargs")), context
            )
        else:
            value = task.execute(context)
        _run_execute_hook(task, "post", context, value)
        push_return_value(
            task, ti, value, mapped_length=mapped_length_of_result(task, value, ti.map_index)
        )
        if getattr(task, "is_branch", False):
            result["branch_task_ids"] = branch_task_ids(task, value)
        # The events of the task's outlets travel with its success report (a wrong
        # outlet_events key fails the task here, naming it).
        result["outlet_events"] = context["outlet_events"].serialize(
            list(getattr(task, "outlets", None) or [])
        )
        if getattr(task, "is_short_circuit", False) and not value:
            result["skip_downstream"] = (
                "all" if getattr(task, "ignore_downstream_trigger_rules", True) else "direct"
            )
        state = "success"
    except SystemExit:
        raise
    except DownstreamTasksSkipped as signal:
        # SkipMixin.skip()/skip_all_except(): the task succeeds (no return value is pushed,
        # as in Airflow) and its success report names the tasks to skip.
        try:
            result["downstream_tasks_skipped"] = requested_skips(task, signal)
            result["outlet_events"] = context["outlet_events"].serialize(
                list(getattr(task, "outlets", None) or [])
            )
            log.info("Skipping downstream tasks %s", result["downstream_tasks_skipped"])
            state = "success"
        except Exception as exc:
            error = exc
            log.error("Task failed with exception:\n%s", traceback.format_exc().rstrip())
    except TaskDeferred as defer:
        try:
            result["deferral"] = deferral_of(defer)
            state = "deferred"
            log.info(
                "Pausing task as DEFERRED. dag_id=%s, task_id=%s, run_id=%s, trigger=%s",
                dag.dag_id,
                task.task_id,
                dag_run.run_id,
                result["deferral"].classpath,
            )
        except Exception as exc:
            error = exc
            log.error("Task %r could not defer: %s", task.task_id, exc)
    except AirflowRescheduleException as exc:
        # A reschedule-mode sensor gives back its slot; no callback runs (as in Airflow).
        state = "up_for_reschedule"
        result["reschedule_date"] = _aware_utc(exc.reschedule_date).isoformat()
        log.info("Rescheduling task, marking task as UP_FOR_RESCHEDULE: %s", exc)
    except AirflowSkipException as exc:
        state = "skipped"
        log.info("Skipping task %r: %s", task.task_id, exc or "AirflowSkipException")
    except (AirflowFailException, AirflowSensorTimeout) as exc:
        # A sensor's timeout, like AirflowFailException, is final: retrying cannot help.
        error = exc
        result["fail_without_retry"] = True
        log.error(
            "Task failed with %s (no retries):\n%s",
            type(exc).__name__,
            traceback.format_exc().rstrip(),
        )
    except (TemplateRenderError, ParamValidationError) as exc:
        error = exc
        log.error("Task %r failed: %s", task.task_id, exc)
    except BaseException as exc:
        error = exc
        log.error("Task failed with exception:\n%s", traceback.format_exc().rstrip())
    _runtime.interruptible = False
    result["state"] = state
    result["rendered_map_index"] = _render_map_index(task, context, ti.map_index)
    if state == "failed" and error is not None and not result["fail_without_retry"]:
        _apply_retry_policy(task, error, try_number, max_tries, context, result)

    if state == "success":
        _run_callbacks(task.on_success_callback, context, "on_success_callback")
    elif state == "failed":
        context["exception"] = error
        if not result["fail_without_retry"] and try_number <= max_tries:
            _run_callbacks(task.on_retry_callback, context, "on_retry_callback")
        else:
            _run_callbacks(task.on_failure_callback, context, "on_failure_callback")
    sdk_runtime.use_context(None)
    return result


def _apply_retry_policy(
    task: Any,
    error: BaseException,
    try_number: int,
    max_tries: int,
    context: dict[str, Any],
    result: dict[str, Any],
) -> None:
    """The task's retry_policy decides about the failure (Airflow 3.3): FAIL ends the task
    without retry, RETRY may set the delay before the next try (within the task's retries),
    DEFAULT leaves the usual rule. A policy that raises, or answers something else, is logged
    and the usual rule applies, as in Airflow."""
    policy = getattr(task, "retry_policy", None)
    if policy is None:
        return
    try:
        decision = policy.evaluate(
            exception=error, try_number=try_number, max_tries=max_tries, context=context
        )
        if not isinstance(decision, RetryDecision):
            raise TypeError(f"evaluate() returned {decision!r}, not a RetryDecision")
    except Exception:
        log.error(
            "Retry policy evaluation failed, falling back to default behaviour:\n%s",
            traceback.format_exc().rstrip(),
        )
        return
    if decision.reason:
        log.info(
            "Retry policy decision: action=%s reason=%s", decision.action.value, decision.reason
        )
    if decision.action is RetryAction.FAIL:
        result["fail_without_retry"] = True
    elif decision.action is RetryAction.RETRY and decision.retry_delay is not None:
        result["retry_delay_seconds"] = max(decision.retry_delay.total_seconds(), 0.0)


def deferral_of(defer: TaskDeferred) -> Deferral:
    """What the supervisor reports for `self.defer(...)`: the trigger's serialize() and the
    resume point, JSON-encoded; a value that cannot travel is an error naming it."""
    trigger = defer.trigger
    if not isinstance(trigger, BaseTrigger):
        raise AirflowException(
            f"defer(trigger=...) needs a BaseTrigger, got {type(trigger).__name__}: {trigger!r}"
        )
    classpath, kwargs = trigger.serialize()
    if not isinstance(defer.method_name, str) or not defer.method_name:
        raise AirflowException(
            f"defer(method_name=...) must name a method, not {defer.method_name!r}"
        )
    timeout = defer.timeout
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        timeout = timedelta(seconds=timeout)
    if timeout is not None and not isinstance(timeout, timedelta):
        raise AirflowException(
            f"defer(timeout=...) must be a timedelta or seconds, not {timeout!r}"
        )
    return Deferral(
        classpath=classpath,
        trigger_kwargs=encode_kwargs(kwargs, f"the kwargs of trigger {classpath}"),
        next_method=defer.method_name,
        next_kwargs=encode_kwargs(defer.kwargs, "defer(kwargs=...)"),
        trigger_timeout=timeout.total_seconds() if timeout is not None else None,
    )


def _aware_utc(value: datetime) -> datetime:
    """A naive reschedule date is UTC, as Airflow's timezone.utcnow() dates are."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _render_map_index(task: Any, context: dict[str, Any], map_index: int) -> str | None:
    """The instance's display name (map_index_template), rendered whatever the outcome, as
    Airflow does; a template that fails to render is logged and left out."""
    try:
        return rendered_map_index(task, context, map_index)
    except Exception as exc:
        log.error("Could not render map_index_template of task %r: %s", task.task_id, exc)
        return None


def branch_task_ids(task: Any, value: Any) -> list[str]:
    """The task ids a branch task chose (task group ids expanded to their roots)."""
    followed = getattr(task, "followed_task_ids", None)
    if callable(followed):
        return sorted(followed(value))
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return sorted(str(item) for item in value)


def _run_callbacks(callbacks: Any, context: dict[str, Any], name: str) -> None:
    """Run a callback (or each of a list); a failing callback is logged, never fatal."""
    if not callbacks:
        return
    items: Iterable[Any] = callbacks if isinstance(callbacks, list | tuple) else [callbacks]
    for callback in items:
        try:
            callback(context)
        except SystemExit:
            raise
        except BaseException:
            log.error(
                "Error when executing %s %s:\n%s",
                name,
                getattr(callback, "__qualname__", repr(callback)),
                traceback.format_exc().rstrip(),
            )


def rendered_fields(task: Any) -> dict[str, Any]:
    """The rendered template fields, JSON-safe, long values truncated (as Airflow stores
    them for the UI's "Rendered Template" view)."""
    fields = {}
    for name in task.template_fields:
        value = json_safe(getattr(task, name, None))
        if isinstance(value, str):
            fields[name] = _truncate(value)
            continue
        text = json.dumps(value, ensure_ascii=False)
        fields[name] = value if len(text) <= MAX_RENDERED_FIELD_LENGTH else _truncate(text)
    return fields


def _truncate(text: str) -> str:
    if len(text) <= MAX_RENDERED_FIELD_LENGTH:
        return text
    return (
        text[:MAX_RENDERED_FIELD_LENGTH]
        + f"... [truncated: {len(text)} characters, over {MAX_RENDERED_FIELD_LENGTH}]"
    )
