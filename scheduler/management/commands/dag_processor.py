"""`manage.py dag_processor [--once]`: keep serialized DAGs in step with the DAG files."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from scheduler.processor.loop import DagProcessor


class Command(BaseCommand):
    help = "Parse DAG files into serialized, versioned DAGs in the metadata database."
    # System checks import the whole URL map (REST API, UI) before the command starts; this
    # process serves no URLs, and `manage.py check` covers them (the test command runs it).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Parse every changed file once, then exit."
        )
        parser.add_argument(
            "--parsing-processes",
            type=int,
            default=None,
            help="Files parsed at once (default ORCH_DAG_PROCESSOR_PARSING_PROCESSES).",
        )

    def handle(self, *args, once: bool, parsing_processes: int | None, **options):
        folder = settings.ORCH.dags_folder
        if not folder.is_dir():
            self.stderr.write(f"DAGs folder {folder} does not exist yet; creating it.")
            folder.mkdir(parents=True, exist_ok=True)
        processor = DagProcessor(processes=parsing_processes)
        if not once:
            self.stdout.write(f"DAG processor watching {folder}")
            processor.run_forever()
            return
        started = time.monotonic()
        report = processor.run_once()
        self.stdout.write(
            f"Listed {report.listed} file(s): parsed {report.parsed}, unchanged "
            f"{report.unchanged}, removed {report.forgotten}, import errors {report.errors} "
            f"({time.monotonic() - started:.2f} s)"
        )
