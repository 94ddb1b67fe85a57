"""`manage.py triggerer [--capacity N]`: run the triggers of deferred tasks until stopped
(Airflow's `airflow triggerer`). Several may run at once: they share the triggers by lease."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from scheduler.triggerer.loop import Triggerer


class Command(BaseCommand):
    help = "Run the triggers of deferred tasks and resume the tasks when they fire."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--capacity",
            type=int,
            default=None,
            help="The most triggers this triggerer runs at once "
            "(default: ORCH_TRIGGERER_CAPACITY, 1000).",
        )

    def handle(self, *args, capacity: int | None, **options):
        if capacity is not None and capacity < 1:
            raise CommandError(f"--capacity must be at least 1, not {capacity}")
        triggerer = Triggerer(capacity=capacity)
        self.stdout.write(f"Triggerer started: capacity={triggerer.capacity}")
        self.stdout.flush()
        triggerer.run_forever()
        self.stdout.write("Triggerer stopped.")
