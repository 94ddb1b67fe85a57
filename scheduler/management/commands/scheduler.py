"""`manage.py scheduler`: run the scheduler (and its executor) until stopped."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from scheduler.scheduling.loop import Scheduler


class Command(BaseCommand):
    help = "Schedule DAG runs and task instances and hand them to the executor."

    def handle(self, *args, **options):
        self.stdout.write(
            f"Scheduler started: executor={settings.ORCH['EXECUTOR']} "
            f"parallelism={settings.ORCH['PARALLELISM']} api={settings.ORCH['API_URL']}"
        )
        Scheduler().run_forever()
        self.stdout.write("Scheduler stopped.")
