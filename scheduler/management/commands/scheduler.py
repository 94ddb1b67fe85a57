"""`manage.py scheduler`: run the scheduler (and its executor) until stopped. SIGTERM/Ctrl-C
stop it gracefully (ORCH_SHUTDOWN_GRACE); a second one stops it at once."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import BaseCommand

from scheduler.scheduling.loop import Scheduler

if TYPE_CHECKING:
    from scheduler.processor.loop import DagProcessor


class Command(BaseCommand):
    help = "Schedule DAG runs and task instances and hand them to the executor."
    # System checks import the whole URL map (REST API, UI) before the command starts; this
    # process serves no URLs, and `manage.py check` covers them (the test command runs it).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-dag-processor",
            action="store_true",
            help="Also run the DAG processor, as a thread of this process (standalone uses it).",
        )

    def handle(self, *args, with_dag_processor: bool, **options):
        self.stdout.write(
            f"Scheduler started: executor={settings.ORCH.executor} "
            f"parallelism={settings.ORCH.parallelism} api={settings.ORCH.api_url}"
        )
        processor: DagProcessor | None = None
        thread: threading.Thread | None = None
        if with_dag_processor:
            from scheduler.processor.loop import DagProcessor

            settings.ORCH.dags_folder.mkdir(parents=True, exist_ok=True)
            processor = DagProcessor()
            thread = threading.Thread(target=processor.run_forever, name="dag-processor")
            thread.start()
        scheduler = Scheduler()
        try:
            scheduler.run_forever()
        finally:
            if processor is not None and thread is not None:
                processor.stop()
                thread.join(30)
        self.stdout.write("Scheduler stopped.")
