"""`manage.py db clean`: Airflow's `airflow db clean` — delete metadata older than a timestamp.

    manage.py db clean --clean-before-timestamp T [-t TABLE,TABLE] [--dry-run] [-y]

The rules (which tables, what "old" means, what goes with what) live in
dagruns/actions/cleanup.py, shared with Celery beat's retention job. As in Airflow, the command
asks for 'delete rows' to be typed unless -y is given; with no terminal to ask on and no -y it
refuses instead of waiting on a closed input. Deleted rows are never archived (see the action's
docstring): `--skip-archive` is accepted for Airflow's scripts and says so.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions import cleanup
from dagruns.actions.audit import Actor
from dagruns.cli.output import render
from dagruns.cli.parsing import parse_date

CONFIRMATION = "delete rows"


def table_list(text: str) -> list[str]:
    """Airflow's comma-separated `--tables` value."""
    return [name.strip() for name in text.split(",") if name.strip()]


class Command(BaseCommand):
    help = "Database maintenance: clean (delete metadata older than a timestamp)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        clean = sub.add_parser(
            "clean",
            help="Purge old records in the metadata database (Airflow's `db clean`).",
            description="Delete finished runs (with their task instances, tries, XComs and "
            "logs), audit rows and other records older than --clean-before-timestamp.",
        )
        clean.add_argument(
            "--clean-before-timestamp",
            required=True,
            metavar="TIMESTAMP",
            help="The date or timestamp before which data is purged; without a timezone it "
            "is UTC. Example: '2022-01-01 00:00:00+01:00'.",
        )
        clean.add_argument(
            "-t",
            "--tables",
            type=table_list,
            metavar="TABLES",
            help="Tables to clean (comma-separated; default all). What hangs off a deleted "
            "row goes with it (a run's task instances, tries, XComs and logs). Options: "
            f"{', '.join(cleanup.ALL_TABLES)}.",
        )
        clean.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        clean.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation.")
        clean.add_argument(
            "--skip-archive",
            action="store_true",
            help="Accepted for Airflow's scripts: deleted rows are never archived here.",
        )

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "clean":
            self.handle_clean(**options)

    def handle_clean(
        self,
        clean_before_timestamp: str,
        tables: list[str] | None,
        dry_run: bool,
        yes: bool,
        skip_archive: bool,
        **_,
    ) -> None:
        before = parse_date(clean_before_timestamp, "--clean-before-timestamp")
        assert before is not None
        try:
            names = cleanup.check_tables(tables)
            cleanup.check_clean_before(before)
        except cleanup.CleanupInvalid as exc:
            raise CommandError(str(exc)) from None
        if skip_archive:
            self.stdout.write(
                "--skip-archive: deleted rows are never archived here (no _airflow_deleted__ "
                "tables); back the database up first if you may need them."
            )
        if dry_run:
            self.stdout.write("Performing dry run for db cleanup.")
            self.stdout.write(
                f"Data prior to {before.isoformat()} would be purged from tables {names} "
                "with the following config:\n"
            )
            rows = [
                {"table": n, "recency_column": t.recency_column, "rule": t.rule}
                for n, t in cleanup.TABLES.items()
                if n in names
            ]
            self.stdout.write(render(rows, ["table", "recency_column", "rule"], "table"))
        elif not yes:
            self.confirm(before.isoformat(), names)
        try:
            report = cleanup.do_clean(before, names, Actor.cli(), dry_run=dry_run)
        except cleanup.CleanupInvalid as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cleaning stopped: {exc} (rows of that batch were kept)") from None
        self.stdout.write("")
        verb = "would be deleted" if dry_run else "deleted"
        counted = [{"table": n, "rows": report.rows.get(n, 0)} for n in names]
        counted.append({"table": "(task log files)", "rows": report.log_files})
        self.stdout.write(f"Rows {verb}:")
        self.stdout.write(render(counted, ["table", "rows"], "table"))

    def confirm(self, before: str, names: list[str]) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "refusing to delete without confirmation: standard input is not a terminal "
                "to ask on; pass -y (--yes) to confirm, or --dry-run to see what would go"
            )
        self.stdout.write(
            f"You have requested that we purge all data prior to {before} for tables "
            f"{names!r}.\nThis is irreversible.  Consider backing up the tables first and / or "
            "doing a dry run with option --dry-run.\n"
            f"Enter '{CONFIRMATION}' (without quotes) to proceed."
        )
        self.stdout.flush()
        try:
            answer = input().strip()
        except EOFError:
            answer = ""
        if answer != CONFIRMATION:
            raise CommandError("User did not confirm; exiting.")
