"""The local executor: each task runner is a process forked from a pre-warmed forkserver.

The forkserver has already imported the task runner and the SDK, so a task starts in a few
milliseconds (a fork) instead of a fresh interpreter plus imports, and it inherits nothing from
the scheduler (no database connection, no threads). Each runner leads its own process group:
`terminate()` kills the runner, the task process it forked, and anything the task started.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.executors.liveness import try_may_still_run_here
from scheduler.forkserver import forkserver_context
from scheduler.runner.workload import Workload


class LocalExecutor(BaseExecutor):
    name = "local"

    def __init__(self, parallelism: int) -> None:
        super().__init__(parallelism)
        self._ctx = forkserver_context()
        self._running: dict[str, tuple[Any, int]] = {}  # ti_id -> (process, try_number)
        self._terminated: set[str] = set()

    def start(self) -> None:
        # Start the forkserver now, not on the first task: the first task should be fast too.
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def queue(self, workload: Workload) -> None:
        from scheduler.runner.supervisor import run_workload

        # The wire form (JSON in a bytearray): the runner validates it and wipes it.
        process = self._ctx.Process(
            target=run_workload,
            args=(workload.to_json_bytes(),),
            kwargs=self.runner_options(),
            name=f"task:{workload.dag_id}.{workload.task_id}",
        )
        process.start()
        # The same task instance queued again before its last runner was seen to end (a
        # reschedule-mode sensor back from up_for_reschedule): the new runner is the one
        # tracked, and an earlier termination of the old one must not shield it from its own.
        self._terminated.discard(workload.ti_id)
        self._running[workload.ti_id] = (process, workload.try_number)

    def runner_options(self) -> dict[str, Any]:
        """Keyword arguments of run_workload beyond the workload (none for a real executor)."""
        return {}

    def sync(self) -> list[ExecutorEvent]:
        """Ended runners, each reported only once nothing of its try is alive any more (its
        task process dies with it, see scheduler/runner/fencing.py): the scheduler may then
        fail and retry the try without two copies ever running at once."""
        events = []
        for ti_id, (process, try_number) in list(self._running.items()):
            if process.exitcode is not None and not try_may_still_run_here(ti_id):
                process.join()
                events.append(ExecutorEvent(ti_id, try_number, process.exitcode))
                del self._running[ti_id]
                self._terminated.discard(ti_id)
        return events

    def terminate(self, ti_id: str) -> bool:
        entry = self._running.get(ti_id)
        if entry is None or ti_id in self._terminated:
            return False
        self._terminated.add(ti_id)
        _kill_group(entry[0].pid)
        return True

    def running_tries(self) -> dict[str, int]:
        return {ti_id: try_number for ti_id, (_p, try_number) in self._running.items()}

    @property
    def running_count(self) -> int:
        return len(self._running)

    def wait_handles(self) -> list[Any]:
        return [process.sentinel for process, _ in self._running.values()]

    def end(self) -> None:
        for process, _ in self._running.values():
            _kill_group(process.pid, signal.SIGTERM)
        for process, _ in self._running.values():
            process.join(5)
            if process.exitcode is None:
                _kill_group(process.pid)
                process.join(1)
        self._running.clear()


def _kill_group(pid: int | None, sig: int = signal.SIGKILL) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
