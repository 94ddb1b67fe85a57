"""`manage.py tasks …`: Airflow's `airflow tasks` commands."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.dags import DagNotFound, get_dag_or_raise
from dagruns.actions.mapped import (
    MapIndexError,
    check_map_index_applies,
    get_mapped_ti_or_raise,
)
from dagruns.actions.runs import TriggerError, create_dag_run, generate_run_id
from dagruns.actions.task_instances import (
    InvalidSelection,
    RunNotFound,
    do_clear,
    get_run_or_raise,
    select_task_instances,
)
from dagruns.actions.waiting import NOT_STARTED, why_waiting
from dagruns.cli.output import add_output_argument, render
from dagruns.cli.parsing import parse_date
from dagruns.cli.rows import TI_COLUMNS, ti_row
from dagruns.domain.schedule_info import ScheduleError, manual_interval
from dagruns.models import (
    DagRun,
    DagRunState,
    DagRunTriggeredBy,
    DagRunType,
    TaskInstance,
    TaskInstanceState,
)


class Command(BaseCommand):
    help = "Manage task instances: test, state, failed-deps, states-for-dag-run, clear."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        test = sub.add_parser(
            "test", help="Run one task now, ignoring dependencies; nothing is kept afterwards."
        )
        test.add_argument("dag_id")
        test.add_argument("task_id")
        test.add_argument(
            "logical_date_or_run_id",
            nargs="?",
            help="The logical date (ISO-8601) of the throw-away run; none (or text that is not "
            "a date): a run without a logical date, as Airflow 3's.",
        )
        test.add_argument("--timeout", type=float, default=None)
        test.add_argument(
            "--map-index", type=int, default=-1, help="The instance of a mapped task to run."
        )
        test.add_argument(
            "-t",
            "--task-params",
            help="A JSON object of params to add to (or override in) the task's params.",
        )
        test.add_argument(
            "--env-vars",
            help="A JSON object of environment variables to set for the task.",
        )
        state = sub.add_parser("state", help="The state of one task instance.")
        failed_deps = sub.add_parser(
            "failed-deps", help="Why one task instance is not running yet (its unmet dependencies)."
        )
        for one in (state, failed_deps):
            one.add_argument("dag_id")
            one.add_argument("task_id")
            one.add_argument("logical_date_or_run_id", help="A run id, or an ISO-8601 date.")
            one.add_argument(
                "--map-index",
                type=int,
                default=-1,
                help="Mapped task index (default -1: the task is not mapped).",
            )
        states = sub.add_parser("states-for-dag-run", help="Task instance states of one run.")
        states.add_argument("dag_id")
        states.add_argument("run_id")
        add_output_argument(states)
        clear = sub.add_parser("clear", help="Clear task instances so they run again.")
        clear.add_argument("dag_id")
        clear.add_argument("-t", "--task-regex", help="Only tasks whose id matches this regex.")
        clear.add_argument("-s", "--start-date", help="Runs with logical date from (ISO-8601).")
        clear.add_argument("-e", "--end-date", help="Runs with logical date up to (ISO-8601).")
        clear.add_argument("-r", "--run-id", help="Only this run.")
        clear.add_argument("-d", "--downstream", action="store_true", help="Include downstream.")
        clear.add_argument("-u", "--upstream", action="store_true", help="Include upstream.")
        clear.add_argument("-f", "--only-failed", action="store_true", help="Only failed ones.")
        clear.add_argument("-y", "--yes", action="store_true", help="Do not ask to confirm.")
        clear.add_argument("--dry-run", action="store_true", help="Only list what would change.")

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except (DagNotFound, RunNotFound, TriggerError, InvalidSelection, MapIndexError) as exc:
            raise CommandError(str(exc)) from None

    def _task_instance(self, dag_id: str, task_id: str, date_or_run_id: str, map_index: int):
        """Airflow's addressing of one task instance: a run id or a logical date, and
        `--map-index` (which must name an instance of a mapped task)."""
        get_dag_or_raise(dag_id)
        run = _run_for(dag_id, date_or_run_id)
        if map_index < -1:
            raise CommandError(f"--map-index must be -1 or more, not {map_index}")
        try:
            if map_index >= 0:
                check_map_index_applies(run, task_id, map_index)
            return get_mapped_ti_or_raise(run, task_id, map_index if map_index >= 0 else None)
        except MapIndexError as exc:
            flag = f"--map-index {map_index}: " if map_index >= 0 else ""
            raise CommandError(f"{flag}{exc}") from None

    def handle_state(self, dag_id, task_id, logical_date_or_run_id, map_index, **_):
        """Airflow's `tasks state`: the state alone ("None" when it has none yet)."""
        ti = self._task_instance(dag_id, task_id, logical_date_or_run_id, map_index)
        self.stdout.write(str(ti.state))

    def handle_failed_deps(self, dag_id, task_id, logical_date_or_run_id, map_index, **_):
        """Airflow's `tasks failed-deps`: each dependency not met, `name: reason`."""
        ti = self._task_instance(dag_id, task_id, logical_date_or_run_id, map_index)
        deps = why_waiting(ti) if ti.state in NOT_STARTED else []
        if not deps:
            self.stdout.write("Task instance dependencies are all met.")
            return
        self.stdout.write("Task instance dependencies not met:")
        for dep in deps:
            self.stdout.write(f"{dep.name}: {dep.reason}")

    def handle_states_for_dag_run(self, dag_id: str, run_id: str, output: str, **_):
        run = get_run_or_raise(dag_id, run_id)
        tis = TaskInstance.objects.filter(dag_run=run).order_by("task_id", "map_index")
        self.stdout.write(render([ti_row(ti) for ti in tis], TI_COLUMNS, output))

    def handle_clear(
        self,
        dag_id,
        task_regex,
        start_date,
        end_date,
        run_id,
        downstream,
        upstream,
        only_failed,
        yes,
        dry_run,
        **_,
    ):
        selected = select_task_instances(
            dag_id,
            run_ids=[run_id] if run_id else None,
            task_regex=task_regex,
            include_downstream=downstream,
            include_upstream=upstream,
            only_failed=only_failed,
            start_date=parse_date(start_date, "--start-date"),
            end_date=parse_date(end_date, "--end-date"),
        )
        # The list shown is the action's own dry run: exactly what the clear would change.
        tis = do_clear(selected, Actor.cli(), dry_run=True)
        if not tis:
            self.stdout.write("No task instances to clear.")
            return
        for ti in tis:
            # Airflow's repr, which names the map index of a mapped instance.
            index = f"map_index={ti.map_index} " if ti.map_index >= 0 else ""
            self.stdout.write(
                f"<TaskInstance: {ti.dag_id}.{ti.task_id} {ti.run_id} {index}"
                f"[{ti.state or 'none'}]>"
            )
        if dry_run:
            return
        if not yes and not _confirm(f"Clear these {len(tis)} task instance(s)? [y/n] "):
            self.stdout.write("Cancelled, nothing was cleared.")
            return
        do_clear(selected, Actor.cli())
        self.stdout.write(f"Cleared {len(tis)} task instance(s).")

    def handle_test(
        self,
        dag_id,
        task_id,
        logical_date_or_run_id,
        timeout,
        map_index=-1,
        task_params=None,
        env_vars=None,
        **_,
    ):
        """Airflow's `tasks test`: run one task without checking dependencies and without
        keeping its state, in test mode (`test_mode`, `AIRFLOW_TEST_MODE`, `--env-vars`,
        `--task-params`). The runner needs a run row to claim, so a throw-away run is
        created, used, and deleted afterwards (its log is printed first)."""
        from scheduler.foreground import run_in_foreground
        from scheduler.runner.task_test import TaskTest

        task_test = TaskTest(
            env_vars={k: str(v) for k, v in _json_object(env_vars, "--env-vars").items()},
            task_params=_json_object(task_params, "--task-params"),
        )
        dag = get_dag_or_raise(dag_id)
        version = dag.latest_version()
        task = next(
            (
                t
                for t in (version.serialized["tasks"] if version else [])
                if t["task_id"] == task_id
            ),
            None,
        )
        if task is None:
            raise CommandError(f"Task {task_id!r} not found in DAG {dag_id!r}")
        if task.get("is_mapped") and map_index < 0:
            raise CommandError(
                f"Task {task_id!r} is mapped: pass --map-index N to run its instance N"
            )
        if not task.get("is_mapped") and map_index >= 0:
            raise CommandError(f"Task {task_id!r} is not mapped: --map-index does not apply")
        now = timezone.now()
        when = _test_logical_date(dag_id, logical_date_or_run_id)
        interval = _manual_interval(version, when)
        try:
            with transaction.atomic():
                run = _throwaway_run(dag, version, task_id, when, interval, now, map_index)
        except IntegrityError:
            raise CommandError(
                f"DAG {dag_id!r} already has a run at {when.isoformat() if when else None}; "
                "`tasks test` uses a throw-away run of its own: pass another logical date"
            ) from None
        try:
            run = run_in_foreground(
                run, printer=self.stdout.write, timeout=timeout, task_test=task_test
            )
            state = TaskInstance.objects.get(dag_run=run, task_id=task_id).state
            label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        finally:
            run.delete()
        self.stdout.write(f"Task {label} finished: {state}")
        if state != TaskInstanceState.SUCCESS:
            sys.exit(1)


def _test_logical_date(dag_id: str, value: str | None):
    """Airflow 3's `logical_date_or_run_id` of `tasks test`: a run id or logical date of an
    existing run names that run; a date names the logical date of a new run; nothing, or text
    that is not a date, a new run without a logical date. Airflow then runs the task inside the
    existing run; here `tasks test` only runs in a throw-away run, so that case is refused."""
    if not value:
        return None
    existing = DagRun.objects.filter(dag_id=dag_id, run_id=value).first()
    try:
        when = parse_date(value)
    except CommandError:
        when = None
    if existing is None and when is not None:
        existing = DagRun.objects.filter(dag_id=dag_id, logical_date=when).first()
    if existing is not None:
        raise CommandError(
            f"{value!r} names the existing run {existing.run_id!r} of DAG {dag_id!r}: running a "
            "task inside an existing run (as Airflow 3's `tasks test` does) is not supported; "
            "`tasks test` runs it in a throw-away run of its own: pass a logical date no run "
            "has, or none"
        )
    return when


def _manual_interval(version, when):
    """The data interval the DAG's timetable gives a manual run at `when` (none without a
    logical date), as Airflow's `tasks test` infers it."""
    if when is None:
        return None
    try:
        inferred = manual_interval(version.serialized, when)
    except ScheduleError as exc:
        raise CommandError(str(exc)) from None
    return (inferred.start, inferred.end)


def _throwaway_run(dag, version, task_id, when, interval, now, map_index=-1):
    run = create_dag_run(
        dag,
        version,
        run_type=DagRunType.MANUAL,
        run_id=generate_run_id("tasks_test", now),
        logical_date=when,
        data_interval=interval,
        run_after=now,
        triggered_by=DagRunTriggeredBy.TEST,
    )
    # Only this task runs, whatever its upstream: the others are settled as skipped.
    TaskInstance.objects.filter(dag_run=run).exclude(task_id=task_id).update(
        state=TaskInstanceState.SKIPPED
    )
    # A mapped task's instance `map_index` (its values resolved by the runner as in a run).
    TaskInstance.objects.filter(dag_run=run, task_id=task_id).update(
        state=TaskInstanceState.SCHEDULED, try_number=1, max_tries=0, map_index=map_index
    )
    run.state = DagRunState.RUNNING
    run.start_date = now
    run.save(update_fields=["state", "start_date"])
    return run


def _run_for(dag_id: str, value: str) -> DagRun:
    """A run by its id, else by its logical date (as Airflow's `logical_date_or_run_id`)."""
    run = DagRun.objects.filter(dag_id=dag_id, run_id=value).first()
    if run is not None:
        return run
    try:
        when = parse_date(value)
    except CommandError:
        raise CommandError(
            f"{value!r} is neither a run id of DAG {dag_id!r} nor an ISO-8601 date "
            "(e.g. 2024-01-31)"
        ) from None
    run = DagRun.objects.filter(dag_id=dag_id, logical_date=when).first()
    if run is None:
        raise CommandError(f"DAG {dag_id!r} has no run {value!r} (by run id or logical date)")
    return run


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise CommandError("refusing to clear without confirmation: pass -y (or --dry-run)")
    return input(question).strip().lower() in ("y", "yes")


def _json_object(text: str | None, flag: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError(f"{flag} must be a JSON object")
    return value
