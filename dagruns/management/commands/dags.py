"""`manage.py dags …`: Airflow's `airflow dags` commands."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions.audit import Actor
from dagruns.actions.dags import DagNotFound, do_set_paused, get_dag_or_raise
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.cli.output import add_output_argument, render
from dagruns.cli.parsing import parse_conf, parse_date
from dagruns.cli.rows import (
    DAG_COLUMNS,
    IMPORT_ERROR_COLUMNS,
    RUN_COLUMNS,
    dag_row,
    run_row,
)
from dagruns.models import DagImportError, DagModel, DagRun, DagRunTriggeredBy


class Command(BaseCommand):
    help = "Manage DAGs: list, list-import-errors, pause, unpause, trigger, test, list-runs."

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

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except (DagNotFound, TriggerError) as exc:
            raise CommandError(str(exc)) from None

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
        if run.state != "success":
            sys.exit(1)
