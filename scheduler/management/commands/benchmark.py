"""`manage.py benchmark [SUITE …]`: measure the real system and print JSON figures.

Benchmarks are commands, never timed assertions in tests: machines are noisy, and a figure is
worth reporting, not asserting."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from scheduler.benchmarks import processor

SUITES = ("processor",)


class Command(BaseCommand):
    help = "Run benchmarks and print their figures as JSON."

    def add_arguments(self, parser):
        parser.add_argument("suites", nargs="*", choices=SUITES, default=list(SUITES))
        parser.add_argument("--files", type=int, default=1000, help="processor: DAG files")
        parser.add_argument("--tasks", type=int, default=20, help="processor: tasks per DAG")
        parser.add_argument("--parsing-processes", type=int, default=None)

    def handle(self, *args, suites, files, tasks, parsing_processes, **options):
        results = {}
        if "processor" in suites:
            results["processor"] = processor.run(files, tasks, parsing_processes)
        self.stdout.write(json.dumps(results, indent=2))
