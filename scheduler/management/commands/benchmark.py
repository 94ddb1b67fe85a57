"""`manage.py benchmark [SUITE …]`: measure the real system and print JSON figures.

Suites: `engine` (chain / fan-out / bash / diamond DAG runs through the real API server,
scheduler, executor and runner; `--executor celery --workers N` adds the same cases through a
broker and N real Celery workers, side by side with the local executor's; `--executor
kubernetes` adds them with a pod per try, on the cluster of ORCH_KUBERNETES_CONFIG_FILE or else
on a stand-in cluster the benchmark starts), `standalone` (idle footprint and start-up), `processor`
(1,000 DAG files), `api` (REST API latency under 20 concurrent clients), `ui` (the grid's
server time for 500 tasks x 25 runs; the delay from a committed state change to the DOM),
`deferred` (1,000 tasks deferred on TimeDeltaTrigger at once: fire→resume delay, the
triggerer's memory and CPU). Benchmarks are commands, never timed assertions in tests: machines are
noisy, and a figure is worth reporting, not asserting."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from scheduler.benchmarks import api, deferred, engine, processor, standalone, ui
from scheduler.benchmarks.shapes import BODIES

SHAPES = tuple(BODIES)

SUITES = ("engine", "standalone", "processor", "api", "ui", "deferred")


def parse_cases(text: str | None):
    if not text:
        return None
    cases = []
    for item in text.split(","):
        try:
            shape, n, kind = item.split(":")
            cases.append((shape, int(n), kind))
        except ValueError:
            raise CommandError(
                f"--cases item {item!r} is not SHAPE:N:KIND (e.g. chain:50:python)"
            ) from None
        if shape not in SHAPES or kind not in ("python", "bash"):
            raise CommandError(f"--cases item {item!r}: shape {'|'.join(SHAPES)}, kind python|bash")
    return cases


def check_executor_options(
    suites: list[str], executor: str, workers: int | None, api_host: str | None = None
) -> None:
    """--executor and --workers belong to the engine suite's Celery run, --api-host to its
    Kubernetes run; anything else is an error naming the option, never silently ignored."""
    if api_host is not None and executor != "kubernetes":
        raise CommandError("--api-host needs --executor kubernetes (where the pods reach the API)")
    if workers is not None and executor != "celery":
        raise CommandError("--workers needs --executor celery (the local executor has no workers)")
    if workers is not None and workers < 1:
        raise CommandError(f"--workers must be at least 1 (got {workers})")
    others = [suite for suite in suites if suite != "engine"]
    if executor != "local" and others:
        raise CommandError(
            f"--executor {executor} applies to the engine suite only, not to: {', '.join(others)}"
        )


class Command(BaseCommand):
    help = "Run benchmarks and print their figures as JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "suites",
            nargs="*",
            choices=SUITES,
            help="default: engine standalone (engine alone with --executor celery or kubernetes)",
        )
        parser.add_argument(
            "--cases",
            help="engine: SHAPE:N:KIND,… (default chain:50:python,"
            "fanout:100:python,chain:20:bash,diamond:5:python,mapped:100:python; "
            "mapped: one task expanded over N items, to compare with fanout:N)",
        )
        parser.add_argument("--repeat", type=int, default=5, help="engine: runs per case")
        parser.add_argument(
            "--executor",
            choices=("local", "celery", "kubernetes"),
            default="local",
            help="engine: celery also measures the cases through a broker and Celery workers, "
            "next to the local executor's figures (broker: ORCH_CELERY_BROKER_URL if set, "
            "else a private redis-server); kubernetes measures them with a pod per try (the "
            "cluster of ORCH_KUBERNETES_CONFIG_FILE if set, else a stand-in cluster whose pods "
            "are local processes)",
        )
        parser.add_argument(
            "--api-host",
            default=None,
            help="engine with --executor kubernetes: the address of this machine the benchmark's "
            "API server listens on and the pods reach it at (default 127.0.0.1: the stand-in's "
            "pods run here; a real cluster's pods need an address they can reach)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="engine with --executor celery: Celery worker processes (default 2)",
        )
        parser.add_argument("--files", type=int, default=1000, help="processor: DAG files")
        parser.add_argument("--tasks", type=int, default=20, help="processor: tasks per DAG")
        parser.add_argument("--parsing-processes", type=int, default=None)
        parser.add_argument("--clients", type=int, default=api.CLIENTS, help="api: clients")
        parser.add_argument(
            "--requests", type=int, default=api.LIST_REQUESTS, help="api: list requests"
        )
        parser.add_argument(
            "--triggers", type=int, default=api.TRIGGER_REQUESTS, help="api: trigger requests"
        )
        parser.add_argument(
            "--deferred-tasks", type=int, default=1000, help="deferred: tasks deferred at once"
        )
        parser.add_argument(
            "--defer-seconds",
            type=float,
            default=180.0,
            help="deferred: each task's TimeDeltaTrigger delay, long enough for all of them to "
            "have deferred before the first fires (default 180)",
        )
        parser.add_argument(
            "--kill-triggerer",
            action="store_true",
            help="deferred: SIGKILL the triggerer once every task is deferred and start another "
            "(reports the takeover time and whether every task resumed exactly once)",
        )
        parser.add_argument("--inside", action="store_true", help="(internal)")

    def handle(
        self, *args, suites, cases, repeat, files, tasks, parsing_processes, inside, **options
    ):
        # (the api suite's --clients/--requests/--triggers arrive in **options)
        executor, workers, api_host = options["executor"], options["workers"], options["api_host"]
        suites = suites or (["engine"] if executor != "local" else ["engine", "standalone"])
        check_executor_options(suites, executor, workers, api_host)
        api_host = api_host or "127.0.0.1"
        if options["deferred_tasks"] < 1 or options["defer_seconds"] <= 0:
            raise CommandError("--deferred-tasks must be at least 1 and --defer-seconds above 0")
        if inside and "deferred" in suites:
            figures = deferred.run_inside(
                options["deferred_tasks"], options["defer_seconds"], options["kill_triggerer"]
            )
            self.stdout.write(json.dumps(figures))
            return
        if inside and "ui" in suites:
            self.stdout.write(json.dumps(ui.run_inside()))
            return
        if inside:
            cases = parse_cases(cases) or engine.DEFAULT_CASES
            figures = engine.run_inside(
                cases, repeat, workers or 0, executor == "kubernetes", api_host
            )
            self.stdout.write(json.dumps(figures))
            return
        results = {}
        if "engine" in suites:
            results["engine"] = engine.run(
                parse_cases(cases), repeat, executor, workers or 2, api_host
            )
        if "standalone" in suites:
            results["standalone"] = standalone.run()
        if "processor" in suites:
            results["processor"] = processor.run(files, tasks, parsing_processes)
        if "ui" in suites:
            results["ui"] = ui.run()
        if "deferred" in suites:
            results["deferred"] = deferred.run(
                options["deferred_tasks"], options["defer_seconds"], options["kill_triggerer"]
            )
        if "api" in suites:
            results["api"] = api.run(options["clients"], options["requests"], options["triggers"])
        self.stdout.write(json.dumps(results, indent=2))
