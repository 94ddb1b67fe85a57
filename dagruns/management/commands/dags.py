"""`manage.py dags …`: Airflow's `airflow dags` commands."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions.audit import Actor
from dagruns.actions.dags import DagNotFound, do_set_paused
from dagruns.cli_output import add_output_argument, render
from dagruns.models import DagImportError, DagModel

DAG_COLUMNS = ["dag_id", "fileloc", "owners", "is_paused", "tags"]
IMPORT_ERROR_COLUMNS = ["filename", "line_number", "timestamp", "stack_trace"]


class Command(BaseCommand):
    help = "Manage DAGs (list, list-import-errors, pause, unpause)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        listing = sub.add_parser("list", help="List the active DAGs.")
        add_output_argument(listing)
        errors = sub.add_parser("list-import-errors", help="List DAG files that failed to load.")
        add_output_argument(errors)
        for name, text in (("pause", "Pause a DAG."), ("unpause", "Resume a paused DAG.")):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("dag_id")
            add_output_argument(cmd)

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except DagNotFound as exc:
            raise CommandError(str(exc)) from None

    def handle_list(self, output: str, **_):
        dags = DagModel.objects.filter(is_active=True).prefetch_related("tags").order_by("dag_id")
        rows = [_dag_row(d) for d in dags]
        self.stdout.write(render(rows, DAG_COLUMNS, output))

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
        self.stdout.write(render(rows, IMPORT_ERROR_COLUMNS, output))

    def handle_pause(self, dag_id: str, output: str, **_):
        self._set_paused(dag_id, True, output)

    def handle_unpause(self, dag_id: str, output: str, **_):
        self._set_paused(dag_id, False, output)

    def _set_paused(self, dag_id: str, paused: bool, output: str) -> None:
        dag = do_set_paused(dag_id, paused, Actor.cli())
        self.stdout.write(
            render(
                [{"dag_id": dag.dag_id, "is_paused": dag.is_paused}],
                ["dag_id", "is_paused"],
                output,
            )
        )


def _dag_row(dag: DagModel) -> dict:
    return {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "owners": dag.owners,
        "is_paused": dag.is_paused,
        "tags": sorted(t.name for t in dag.tags.all()),
    }
