"""`manage.py celery worker|beat`: Airflow's `airflow celery worker` shape, plus the beat that
runs our periodic housekeeping.

`celery worker` never reaches this class: manage.py hands it to the Django-free worker entry
point before Django starts (a worker has no database settings and must not import the ORM).
It is declared here too so `manage.py help celery` shows both subcommands with their options.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from scheduler.housekeeping import beat
from scheduler.worker import command as worker


class Command(BaseCommand):
    help = "Run a Celery worker (tries from the broker) or Celery beat (periodic housekeeping)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        worker.add_arguments(sub.add_parser("worker", help=worker.HELP))
        beat.add_arguments(sub.add_parser("beat", help=beat.HELP))

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "worker":
            raise CommandError("run the worker as `manage.py celery worker` (no Django needed)")
        beat.run(options)
