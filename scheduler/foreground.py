"""Running one DAG run to its end in the foreground, printing each try's log as it finishes:
the engine behind `dags test`, `tasks test` and the benchmarks. It uses the real scheduler
tick, the local executor, real runner processes and the Execution API over HTTP (served from a
thread of this process), so what works here works in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.domain.logs import log_path, read_log
from dagruns.models import DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED, TI_FINISHED, TaskInstanceState
from scheduler.executors.local import LocalExecutor
from scheduler.inprocess_api import InProcessApiServer
from scheduler.processor.callbacks import run_pending_callbacks
from scheduler.runner.task_test import TaskTest
from scheduler.scheduling.loop import Scheduler
from scheduler.triggerer.inline import InlineTriggerer

Printer = Callable[[str], None]


class ForegroundExecutor(LocalExecutor):
    """The local executor running every task of the run, whatever executor its operator names
    (`executor="celery"`): `dags test` runs a whole DAG on this machine, as Airflow's does, and
    needs no Celery worker. The try records `local`, where it ran.

    `task_test` (`tasks test`): handed to the runners this executor forks, not put into the
    workload: only a foreground run, on this machine, is ever in test mode."""

    def __init__(self, parallelism: int, *, task_test: TaskTest | None = None) -> None:
        super().__init__(parallelism)
        self.task_test = task_test

    def executor_for(self, requested: str | None) -> str | None:
        return self.name

    def runner_options(self) -> dict[str, Any]:
        return {"task_test": self.task_test} if self.task_test is not None else {}


def run_in_foreground(
    run: DagRun,
    *,
    printer: Printer | None = None,
    timeout: float | None = None,
    task_test: TaskTest | None = None,
) -> DagRun:
    """Drive `run` until it finishes (or `timeout` seconds pass); returns it refreshed.
    `task_test`: the tries run as `tasks test` runs them."""
    printed: set[tuple[str, int, int]] = set()
    with InProcessApiServer() as api:
        previous_url = settings.ORCH.api_url
        settings.ORCH.api_url = api.url
        try:
            scheduler = Scheduler(
                executor=ForegroundExecutor(settings.ORCH.parallelism, task_test=task_test),
                dag_ids=[run.dag_id],
            )

            # Deferred tasks resume without a separate triggerer, as in Airflow's dags test.
            triggerer = InlineTriggerer(run.pk)

            def finished(_report) -> bool:
                if printer:
                    _print_new_logs(run, printed, printer)
                triggerer.start_when_needed()
                state = DagRun.objects.values_list("state", flat=True).get(pk=run.pk)
                return state in DAGRUN_FINISHED

            try:
                scheduler.run_until(finished, timeout=timeout)
            finally:
                scheduler.executor.end()
                triggerer.close()
        finally:
            settings.ORCH.api_url = previous_url
    run.refresh_from_db()
    if run.state in DAGRUN_FINISHED:
        _run_dag_callbacks(run, printer)
    return run


def _run_dag_callbacks(run: DagRun, printer: Printer | None) -> None:
    """The run's DAG-level callback, here and now, as Airflow's `dags test` runs it (a DAG
    processor would otherwise pick the request up); its log is printed like a task's."""
    ran = run_pending_callbacks(
        settings.ORCH.dag_file_processor_timeout,
        [str(settings.ORCH.dags_folder)],
        dag_run_id=run.pk,
    )
    path = callback_log_path(run.dag_id, run.run_id)
    if ran and printer and path.exists():
        printer("--- DAG callbacks ---")
        printer(path.read_text(encoding="utf-8", errors="replace").rstrip("\n"))


def _print_new_logs(run: DagRun, printed: set[tuple[str, int, int]], printer: Printer) -> None:
    done_states = TI_FINISHED | {TaskInstanceState.UP_FOR_RETRY}
    rows = TaskInstance.objects.filter(dag_run_id=run.pk).values_list(
        "task_id", "try_number", "state", "map_index"
    )
    for task_id, try_number, state, map_index in rows:
        key = (task_id, map_index, try_number)
        if state not in done_states or key in printed or try_number == 0:
            continue
        printed.add(key)
        label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        printer(f"--- {label} (try {try_number}) → {state} ---")
        path = log_path(run.dag_id, run.run_id, task_id, try_number, map_index)
        offset = 0
        while True:
            chunk = read_log(path, offset)
            if chunk.content:
                printer(chunk.content.rstrip("\n"))
            if chunk.eof or chunk.next_offset == offset:
                break
            offset = chunk.next_offset
