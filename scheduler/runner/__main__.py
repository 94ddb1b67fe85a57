"""`python -m scheduler.runner WORKLOAD` runs one try: for executors that start the runner as
a command (a Celery worker's subprocess, a Kubernetes pod). WORKLOAD is a JSON file, `-` for
stdin, or the JSON text itself (visible to `ps`: prefer stdin or a file, which nobody else can
read). The JSON is the versioned workload of scheduler/runner/workload.py; an invalid one is
refused with exit code 3 before anything runs. Otherwise the exit code is run_workload's (see
supervisor.EXIT_*)."""

from __future__ import annotations

import sys

from scheduler.runner.supervisor import run_workload


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m scheduler.runner WORKLOAD.json | - | '{...json...}'")
    # Read into a bytearray, which run_workload wipes once parsed: no copy of the token is
    # left in this process for the task process to inherit.
    if argv[0] == "-":
        data = bytearray(sys.stdin.buffer.read())
    elif argv[0].lstrip().startswith("{"):
        data = bytearray(argv[0].encode("utf-8"))
        _forget_argv()
    else:
        with open(argv[0], "rb") as handle:
            data = bytearray(handle.read())
    run_workload(data)


def _forget_argv() -> None:
    """Drop the inline JSON (and its token) from Python's copies of the command line."""
    for args in (sys.argv, getattr(sys, "orig_argv", [])):
        for i, arg in enumerate(args):
            if arg.lstrip().startswith("{"):
                args[i] = "<workload>"


if __name__ == "__main__":
    main(sys.argv[1:])
