"""`python -m scheduler.runner WORKLOAD` runs one try: for executors that start the runner as
a command (a Celery worker's subprocess, a Kubernetes pod). WORKLOAD is a JSON file, `-` for
stdin, or the JSON text itself. The exit code is run_workload's (see supervisor.EXIT_*)."""

from __future__ import annotations

import json
import sys

from scheduler.runner.supervisor import run_workload


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m scheduler.runner WORKLOAD.json | - | '{...json...}'")
    source = argv[0]
    if source == "-":
        text = sys.stdin.read()
    elif source.lstrip().startswith("{"):
        text = source
    else:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    run_workload(json.loads(text))


if __name__ == "__main__":
    main(sys.argv[1:])
