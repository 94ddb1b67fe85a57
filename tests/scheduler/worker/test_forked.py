"""Runners started from a worker's pool threads (scheduler/worker/forked.py): several threads of
one process start and wait on runners at once, and each reads its own runner's exit code.

The runners are real, forked by the worker's forkserver; their workloads are invalid, so each
refuses it and exits at once with EXIT_INVALID_WORKLOAD (no API server needed): many short
runners ending while other threads start theirs, the moment a shared child table would mix up
their exit codes (a wrong code reads as "ended without reporting").
"""

from __future__ import annotations

import multiprocessing.process as mp_process
from concurrent.futures import ThreadPoolExecutor

from scheduler.runner.exit_codes import EXIT_INVALID_WORKLOAD
from scheduler.worker import forked


def test_pool_threads_each_get_their_own_runners_exit_code():
    forked.start_forkserver()
    tries = [(f"ti-{n}", n % 3 + 1) for n in range(48)]

    def run(ti: tuple[str, int]) -> int:
        ti_id, try_number = ti
        return forked.run_try('{"not": "a workload"}', "w@test", ti_id, try_number, None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(run, tries))
    assert codes == [EXIT_INVALID_WORKLOAD] * len(tries)
    # None of them is left in multiprocessing's table of this process's children.
    assert not [p for p in mp_process._children if p.name.startswith("task runner ti-")]  # type: ignore[attr-defined]
