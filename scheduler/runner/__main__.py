"""`python -m scheduler.runner WORKLOAD` runs one try: for executors that start the runner as
a command (a Celery worker's subprocess, a Kubernetes pod). WORKLOAD is a JSON file, `-` for
stdin, or the JSON text itself (visible to `ps`: prefer stdin or a file, which nobody else can
read), or `--from-env`: a Kubernetes pod's container, whose workload JSON (without the token) is
in $ORCHESTRATOR_WORKLOAD and whose token comes from a Secret in $ORCHESTRATOR_TASK_TOKEN; both
are removed from the environment before the task process starts. The JSON is the versioned
workload of scheduler/runner/workload.py; an invalid one is
refused with exit code 3 before anything runs. Otherwise the exit code is run_workload's (see
supervisor.EXIT_*)."""

from __future__ import annotations

import json
import os
import sys

from scheduler.runner.pod_env import TOKEN_ENV, WORKLOAD_ENV
from scheduler.runner.supervisor import run_workload


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(
            "usage: python -m scheduler.runner WORKLOAD.json | - | '{...json...}' | --from-env"
        )
    # Read into a bytearray, which run_workload wipes once parsed: no copy of the token is
    # left in this process for the task process to inherit.
    if argv[0] == "--from-env":
        data = _workload_from_env()
    elif argv[0] == "-":
        data = bytearray(sys.stdin.buffer.read())
    elif argv[0].lstrip().startswith("{"):
        data = bytearray(argv[0].encode("utf-8"))
        _forget_argv()
    else:
        with open(argv[0], "rb") as handle:
            data = bytearray(handle.read())
    run_workload(data)


def _workload_from_env() -> bytearray:
    """The workload of a pod: its JSON and its token, each from its own variable (the token's
    from a Secret), taken out of the environment so the task process never inherits them."""
    text = os.environ.pop(WORKLOAD_ENV, None)
    token = os.environ.pop(TOKEN_ENV, None)
    if text is None or token is None:
        missing = WORKLOAD_ENV if text is None else TOKEN_ENV
        sys.exit(f"--from-env: ${missing} is not set")
    try:
        data = json.loads(text)
    except ValueError as exc:
        sys.exit(f"--from-env: ${WORKLOAD_ENV} is not JSON: {exc}")
    if not isinstance(data, dict):
        sys.exit(f"--from-env: ${WORKLOAD_ENV} is not a JSON object")
    data["token"] = token
    return bytearray(json.dumps(data).encode("utf-8"))


def _forget_argv() -> None:
    """Drop the inline JSON (and its token) from Python's copies of the command line."""
    for args in (sys.argv, getattr(sys, "orig_argv", [])):
        for i, arg in enumerate(args):
            if arg.lstrip().startswith("{"):
                args[i] = "<workload>"


if __name__ == "__main__":
    main(sys.argv[1:])
