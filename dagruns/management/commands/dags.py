"""`manage.py dags …`: Airflow's `airflow dags` commands."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions.audit import Actor
from dagruns.actions.dags import DagNotFound, do_set_paused, get_dag_or_raise
from dagruns.actions.errors import ActionRefused
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.cli.backfill import add_backfill_arguments, run_backfill
from dagruns.cli.output import add_output_argument, render
from dagruns.cli.parsing import parse_conf, parse_date
from dagruns.cli.rows import (
    DAG_COLUMNS,
    IMPORT_ERROR_COLUMNS,
    RUN_COLUMNS,
    dag_row,
    run_row,
)
from dagruns.models import DagImportError, DagModel, DagRun, DagRunState, DagRunTriggeredBy


class Command(BaseCommand):
    help = (
        "Manage DAGs: list, list-import-errors, pause, unpause, trigger, test, list-runs, "
        "delete, next-execution, state, backfill."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        add_output_argument(sub.add_parser("list", help="List the active DAGs."))
        add_output_argument(
            sub.add_parser("list-import-errors", help="List DAG files that failed to load.")
        )
        for name, text in (("pause", "Pause a DAG."), ("unpause", "Resume a paused DAG.")):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("dag_id")
            add_output_argument(cmd)
        trigger = sub.add_parser("trigger", help="Create a manual DAG run.")
        trigger.add_argument("dag_id")
        trigger.add_argument("-c", "--conf", help="JSON object passed to the run.")
        trigger.add_argument("-r", "--run-id", help="Run id (default manual__<logical date>).")
        trigger.add_argument("-l", "--logical-date", help="ISO-8601 (default now).")
        add_output_argument(trigger)
        test = sub.add_parser("test", help="Run one DAG run in the foreground, printing logs.")
        test.add_argument("dag_id")
        test.add_argument("logical_date", nargs="?", help="ISO-8601 (default now).")
        test.add_argument("-c", "--conf", help="JSON object passed to the run.")
        test.add_argument("--timeout", type=float, default=None, help="Give up after N seconds.")
        runs = sub.add_parser("list-runs", help="List a DAG's runs, newest first.")
        runs.add_argument("dag_id")
        runs.add_argument("--state", help="Only runs in this state.")
        add_output_argument(runs)
        delete = sub.add_parser("delete", help="Delete a DAG's runs, task instances and versions.")
        delete.add_argument("dag_id")
        delete.add_argument("-y", "--yes", action="store_true", help="Do not ask to confirm.")
        nxt = sub.add_parser("next-execution", help="The next logical date(s) of a DAG.")
        nxt.add_argument("dag_id")
        nxt.add_argument(
            "-n", "--num-executions", type=int, default=1, help="How many (default 1)."
        )
        state = sub.add_parser("state", help="The state of one DAG run.")
        state.add_argument("dag_id")
        state.add_argument("logical_date_or_run_id", help="A run id, or an ISO-8601 date.")
        add_backfill_arguments(sub)

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except (DagNotFound, TriggerError, ActionRefused) as exc:
            raise CommandError(str(exc)) from None

    def handle_backfill(self, **options):
        run_backfill(self.stdout.write, **options)

    def out(self, rows, columns, output):
        self.stdout.write(render(rows, columns, output))

    def handle_list(self, output: str, **_):
        dags = DagModel.objects.filter(is_active=True).prefetch_related("tags").order_by("dag_id")
        self.out([dag_row(d) for d in dags], DAG_COLUMNS, output)

    def handle_list_import_errors(self, output: str, **_):
        rows = [
            {
                "filename": e.filename,
                "line_number": e.line_number,
                "timestamp": e.timestamp,
                "stack_trace": e.stack_trace,
            }
            for e in DagImportError.objects.order_by("filename")
        ]
        self.out(rows, IMPORT_ERROR_COLUMNS, output)

    def handle_pause(self, dag_id: str, output: str, **_):
        dag = do_set_paused(dag_id, True, Actor.cli())
        self.out(
            [{"dag_id": dag.dag_id, "is_paused": dag.is_paused}], ["dag_id", "is_paused"], output
        )

    def handle_unpause(self, dag_id: str, output: str, **_):
        dag = do_set_paused(dag_id, False, Actor.cli())
        self.out(
            [{"dag_id": dag.dag_id, "is_paused": dag.is_paused}], ["dag_id", "is_paused"], output
        )

    def handle_trigger(self, dag_id, conf, run_id, logical_date, output, **_):
        run = do_trigger_dag(
            dag_id,
            Actor.cli(),
            conf=parse_conf(conf),
            run_id=run_id,
            logical_date=parse_date(logical_date),
            triggered_by=DagRunTriggeredBy.CLI,
        )
        self.out([run_row(run)], RUN_COLUMNS, output)

    def handle_list_runs(self, dag_id: str, state: str | None, output: str, **_):
        get_dag_or_raise(dag_id)
        runs = DagRun.objects.filter(dag_id=dag_id).order_by("-run_after", "-id")
        if state:
            runs = runs.filter(state=state)
        self.out([run_row(r) for r in runs], RUN_COLUMNS, output)

    def handle_delete(self, dag_id: str, yes: bool, **_):
        from dagruns.actions.dag_delete import DagHasRunningTasks, do_delete_dag

        question = f"This will drop all existing records related to DAG {dag_id!r}. Proceed? (y/n) "
        try:
            # The dry run refuses (unknown DAG, running tasks) before the question is asked.
            do_delete_dag(dag_id, Actor.cli(), dry_run=True)
            if not yes and not _confirm(question):
                self.stdout.write("Cancelled, nothing was deleted.")
                return
            runs = do_delete_dag(dag_id, Actor.cli())
        except DagHasRunningTasks as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Removed DAG {dag_id} with {runs} run(s).")

    def handle_next_execution(self, dag_id: str, num_executions: int, **_):
        """Airflow's `dags next-execution`: the next logical date(s), one per line, or None."""
        from dagruns.domain.schedule_info import ScheduleError, timetable_for
        from dagruns.domain.timetables import DataInterval, TimetableError, next_run_after
        from dagruns.sdk.timeutil import parse_isoformat

        dag = get_dag_or_raise(dag_id)
        if num_executions < 1:
            raise CommandError("--num-executions must be at least 1")
        if dag.is_paused:
            self.stderr.write("[INFO] Please be reminded this DAG is PAUSED now.")
        if dag.next_dagrun is None:
            self.stdout.write("None")
            return
        self.stdout.write(dag.next_dagrun.isoformat())
        version = dag.latest_version()
        if version is None or num_executions == 1:
            return
        data = version.serialized
        try:
            timetable = timetable_for(data)
        except ScheduleError as exc:
            raise CommandError(str(exc)) from None
        last = DataInterval(
            dag.next_dagrun_data_interval_start or dag.next_dagrun,
            dag.next_dagrun_data_interval_end or dag.next_dagrun,
        )
        for _step in range(num_executions - 1):
            try:
                info = next_run_after(
                    timetable,
                    last_automated_data_interval=last,
                    start_date=parse_isoformat(data.get("start_date")),
                    end_date=parse_isoformat(data.get("end_date")),
                    catchup=True,
                    now=last.end,
                )
            except TimetableError as exc:
                raise CommandError(f"DAG {dag_id!r}: {exc}") from None
            if info is None:
                self.stdout.write("None")
                return
            self.stdout.write(info.logical_date.isoformat())
            last = info.data_interval

    def handle_state(self, dag_id: str, logical_date_or_run_id: str, **_):
        """Airflow's `dags state`: the run's state, followed by its conf when it has one."""
        import json

        get_dag_or_raise(dag_id)
        run = DagRun.objects.filter(dag_id=dag_id, run_id=logical_date_or_run_id).first()
        if run is None:
            # Not a run id: it must be a date (Airflow parses the argument as one and refuses
            # what is not). A real date without a run prints None, as Airflow does.
            try:
                when = parse_date(logical_date_or_run_id)
            except CommandError:
                raise CommandError(
                    f"{logical_date_or_run_id!r} is neither a run id of DAG {dag_id!r} nor an "
                    "ISO-8601 date (e.g. 2024-01-31)"
                ) from None
            run = DagRun.objects.filter(dag_id=dag_id, logical_date=when).first()
        if run is None:
            self.stdout.write("None")
            return
        out = run.state
        if run.conf:
            out = f"{out}, {json.dumps(run.conf, ensure_ascii=False)}"
        self.stdout.write(out)

    def handle_test(self, dag_id, logical_date, conf, timeout, **_):
        from scheduler.foreground import run_in_foreground

        run = do_trigger_dag(
            dag_id,
            Actor.cli(),
            conf=parse_conf(conf),
            logical_date=parse_date(logical_date),
            run_id=None,
            triggered_by=DagRunTriggeredBy.TEST,
        )
        self.stdout.write(f"Running {dag_id} run {run.run_id} in the foreground")
        run = run_in_foreground(run, printer=self.stdout.write, timeout=timeout)
        self.stdout.write(f"DAG run {run.run_id} finished: {run.state}")
        if run.state != DagRunState.SUCCESS:
            sys.exit(1)


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise CommandError("refusing to delete without confirmation: pass -y")
    return input(question).strip().lower() in ("y", "yes")
