"""The one multiprocessing forkserver of a process, preloaded with what its children run.

Python keeps a single forkserver per process, started with the preload list in force at its
first use; the DAG processor and the local executor therefore ask for the same list, so
whichever starts it first, both get children that start in a fork."""

from __future__ import annotations

import multiprocessing

PRELOAD = [
    # The typed contracts (pydantic) first: no try pays for importing pydantic.
    "scheduler.runner.workload",
    "scheduler.runner.messages",
    "scheduler.processor.parsing",
    "scheduler.runner.supervisor",
    "scheduler.forkserver_ready",
]


def forkserver_context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx
