"""The local executor: each task runner is a process forked from a pre-warmed forkserver.

The forkserver has already imported the task runner and the SDK, so a task starts in a few
milliseconds (a fork) instead of a fresh interpreter plus imports, and it inherits nothing from
the scheduler (no database connection, no threads). Each runner leads its own process group:
`terminate()` kills the runner, the task process it forked, and anything the task started.

`queue()` sends the fork request and returns without waiting for the forkserver's answer (the
runner's pid; scheduler/forkserver.py): a tick queueing many tries does not wait for each fork
in turn. Until its answer is read (by `sync()`: the answer wakes the loop) a try counts as
running: it takes a slot, a drain waits for it, and `terminate()` of it kills the runner as
soon as its pid is known. A request the forkserver cannot answer (it died) is reported by
`sync()` as a runner that never claimed its try, so the scheduler queues it again without
using a retry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from multiprocessing.connection import wait
from typing import Any

from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.executors.liveness import try_may_still_run_here
from scheduler.forkserver import UnconfirmedProcess, forkserver_context
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED
from scheduler.runner.workload import Workload

log = logging.getLogger(__name__)

NOT_STARTED_REASON = (
    "The local executor's forkserver could not start the task runner ({why}); "
    "the try goes back to the queue."
)


class LocalExecutor(BaseExecutor):
    name = "local"

    def __init__(self, parallelism: int) -> None:
        super().__init__(parallelism)
        forkserver_context()  # the preload list, before the forkserver starts
        self._running: dict[str, tuple[Any, int]] = {}  # ti_id -> (process, try_number)
        self._unconfirmed: set[str] = set()  # ti_ids whose fork the forkserver has not answered
        self._terminated: set[str] = set()
        # Requests that could not even be sent (the forkserver was gone): ti_id -> (try, why).
        self._not_sent: dict[str, tuple[int, str]] = {}

    def start(self) -> None:
        # Start the forkserver now, not on the first task: the first task should be fast too.
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def queue(self, workload: Workload) -> None:
        from scheduler.runner.supervisor import run_workload

        ti_id = workload.ti_id
        self._settle_previous(ti_id)
        # The wire form (JSON in a bytearray): the runner validates it and wipes it.
        process = UnconfirmedProcess(
            target=run_workload,
            args=(workload.to_json_bytes(),),
            kwargs=self.runner_options(),
            name=f"task:{workload.dag_id}.{workload.task_id}",
        )
        try:
            process.start()
        except OSError as exc:
            # The forkserver died between its liveness check and our request: nothing started.
            log.error("cannot hand try %s to the forkserver: %s", ti_id, exc)
            self._not_sent[ti_id] = (workload.try_number, str(exc))
            return
        # The same task instance queued again before its last runner was seen to end (a
        # reschedule-mode sensor back from up_for_reschedule): the new runner is the one
        # tracked, and an earlier termination of the old one must not shield it from its own.
        self._terminated.discard(ti_id)
        self._running[ti_id] = (process, workload.try_number)
        self._unconfirmed.add(ti_id)

    def _settle_previous(self, ti_id: str) -> None:
        """The runner this task instance had is about to stop being tracked: if its fork is
        still unanswered, wait for the answer (rare), so a termination of it is carried out."""
        self._not_sent.pop(ti_id, None)
        if ti_id in self._unconfirmed:
            self._confirm(ti_id, block=True)

    def runner_options(self) -> dict[str, Any]:
        """Keyword arguments of run_workload beyond the workload (none for a real executor)."""
        return {}

    def _confirm(self, ti_id: str, block: bool = False) -> None:
        """Read the forkserver's answer for this try's runner if it is there; a runner
        terminated before its pid was known is killed now."""
        process = self._running[ti_id][0]
        if not process.confirm(block):
            return
        self._unconfirmed.discard(ti_id)
        if process.start_failed:
            log.error("the forkserver ended before it answered for try %s", ti_id)
        elif ti_id in self._terminated:
            _kill_group(process.pid)

    def sync(self) -> list[ExecutorEvent]:
        """Ended runners, each reported only once nothing of its try is alive any more (its
        task process dies with it, see scheduler/runner/fencing.py): the scheduler may then
        fail and retry the try without two copies ever running at once."""
        if self._unconfirmed:
            # One poll for all the answers waiting, not one per try.
            waiting = {self._running[ti_id][0].sentinel: ti_id for ti_id in self._unconfirmed}
            for sentinel in wait(list(waiting), 0):
                self._confirm(waiting[sentinel], block=True)  # readable: it does not block
        events = [
            ExecutorEvent(ti_id, try_number, EXIT_NOT_CLAIMED, NOT_STARTED_REASON.format(why=why))
            for ti_id, (try_number, why) in self._not_sent.items()
        ]
        self._not_sent.clear()
        for ti_id, (process, try_number) in list(self._running.items()):
            if ti_id in self._unconfirmed or process.exitcode is None:
                continue
            if try_may_still_run_here(ti_id):
                continue
            process.join()
            if process.start_failed:
                # Whether it forked is unknown, but nothing of the try runs here (the fence):
                # it never claimed, or it already reported and the scheduler ignores this.
                why = "its forkserver ended before answering"
                events.append(
                    ExecutorEvent(
                        ti_id, try_number, EXIT_NOT_CLAIMED, NOT_STARTED_REASON.format(why=why)
                    )
                )
            else:
                events.append(ExecutorEvent(ti_id, try_number, process.exitcode))
            del self._running[ti_id]
            self._terminated.discard(ti_id)
        return events

    def terminate(self, ti_id: str) -> bool:
        entry = self._running.get(ti_id)
        if entry is None or ti_id in self._terminated:
            return False
        self._terminated.add(ti_id)
        if ti_id in self._unconfirmed:
            self._confirm(ti_id)  # killed now if answered, else as soon as it is
        else:
            _kill_group(entry[0].pid)
        return True

    def running_tries(self) -> dict[str, int]:
        tries = {ti_id: try_number for ti_id, (_p, try_number) in self._running.items()}
        tries.update({ti_id: try_number for ti_id, (try_number, _) in self._not_sent.items()})
        return tries

    @property
    def running_count(self) -> int:
        return len(self._running) + len(self._not_sent)

    def wait_handles(self) -> list[Any]:
        # A sentinel is readable when its runner ends and, before its fork is confirmed, when
        # the forkserver answers: the loop wakes to read the answer, so it keeps watching the
        # runner's end (a pid and an exit code may both be waiting behind that answer).
        return [process.sentinel for process, _ in self._running.values()]

    def end(self) -> None:
        for ti_id in list(self._unconfirmed):
            self._confirm(ti_id, block=True)
        for process, _ in self._running.values():
            _kill_group(process.pid, signal.SIGTERM)
        for process, _ in self._running.values():
            process.join(5)
            if process.exitcode is None:
                _kill_group(process.pid)
                process.join(1)
        self._running.clear()
        self._not_sent.clear()


def _kill_group(pid: int | None, sig: int = signal.SIGKILL) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
