"""The local executor hands a try to its forkserver without waiting for the fork: until the
forkserver answers, the try takes a slot, a termination of it is carried out once its runner
exists, and a forkserver that dies with requests in flight gives those tries back."""

from __future__ import annotations

import os
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import forkserver

import pytest

from scheduler.executors.base import ExecutorEvent
from scheduler.executors.local import LocalExecutor
from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED
from scheduler.runner.workload import Workload
from tests.polling import wait_until


def _unreachable_api() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def waiting_workload() -> Workload:
    """A try whose runner keeps retrying its claim (no API listens) until it is killed: a
    runner that stays alive without a database or an API server."""
    return Workload.parse(
        {
            "version": 2,
            "ti_id": str(uuid.uuid4()),
            "dag_id": "d",
            "run_id": "r",
            "task_id": "t",
            "try_number": 1,
            "dag_fileloc": "/nonexistent.py",
            "api_url": _unreachable_api(),
            "token": "t",
            "report_retry_timeout": 600.0,
        }
    )


def _forkserver_pid() -> int:
    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert pid is not None
    return pid


@contextmanager
def forkserver_paused() -> Iterator[int]:
    """The forkserver stopped (SIGSTOP): requests queue up unanswered until the block ends."""
    pid = _forkserver_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture
def executor() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(parallelism=4)
    executor.start()
    try:
        yield executor
    finally:
        # Killed rather than left to end(): a runner retrying its claim outlasts SIGTERM.
        for ti_id in executor.running_tries():
            executor.terminate(ti_id)
        wait_until(lambda: not executor.sync() and executor.running_count == 0, "their end")
        executor.end()


def events_until(executor: LocalExecutor, count: int) -> list[ExecutorEvent]:
    seen: list[ExecutorEvent] = []

    def enough() -> bool:
        seen.extend(executor.sync())
        return len(seen) >= count

    wait_until(enough, f"{count} ended runner(s) reported", timeout=60)
    return seen


def test_a_try_handed_to_the_forkserver_takes_a_slot_before_the_fork_is_confirmed(executor):
    first, second = waiting_workload(), waiting_workload()
    with forkserver_paused():
        executor.queue(first)
        executor.queue(second)
        assert executor.open_slots == 2
        assert executor.running_tries() == {first.ti_id: 1, second.ti_id: 1}
        assert executor.sync() == []  # unanswered: neither started nor ended
    wait_until(
        lambda: executor.sync() == [] and not executor._unconfirmed,
        "the forkserver's answers to be read",
    )
    assert all(process.pid for process, _ in executor._running.values())
    assert executor.open_slots == 2


def test_terminating_a_try_before_its_fork_is_confirmed_kills_the_runner_once_it_exists(
    executor,
):
    workload, other = waiting_workload(), waiting_workload()
    with forkserver_paused():
        executor.queue(workload)
        executor.queue(other)
        # The loop wakes as soon as an answer is there, to read it.
        sentinels = [executor._running[w.ti_id][0].sentinel for w in (workload, other)]
        assert executor.wait_handles() == sentinels
        assert executor.terminate(workload.ti_id)
        assert not executor.terminate(workload.ti_id)  # once, as for a started runner
        assert executor._running[workload.ti_id][0].pid is None
    (event,) = events_until(executor, 1)
    assert (event.ti_id, event.returncode) == (workload.ti_id, -signal.SIGKILL)
    assert executor.running_tries() == {other.ti_id: 1}


def test_a_forkserver_dying_with_requests_in_flight_gives_those_tries_back(executor):
    lost = [waiting_workload(), waiting_workload()]
    with forkserver_paused() as pid:
        for workload in lost:
            executor.queue(workload)
        os.kill(pid, signal.SIGKILL)
    events = events_until(executor, 2)
    assert {(e.ti_id, e.returncode) for e in events} == {(w.ti_id, EXIT_NOT_CLAIMED) for w in lost}
    assert all("forkserver" in (e.reason or "") for e in events)
    assert executor.running_count == 0

    # The next try gets a new forkserver, and a runner.
    later = waiting_workload()
    executor.queue(later)
    wait_until(lambda: executor.sync() == [] and not executor._unconfirmed, "the answer")
    assert executor._running[later.ti_id][0].pid not in (None, pid)


def test_a_request_that_cannot_be_sent_is_given_back_on_the_next_sync(executor, monkeypatch):
    def refused(_fds):
        raise ConnectionRefusedError("the forkserver's socket is gone")

    monkeypatch.setattr(forkserver, "connect_to_new_process", refused)
    workload = waiting_workload()
    executor.queue(workload)
    assert executor.open_slots == 3
    (event,) = executor.sync()
    assert (event.ti_id, event.try_number, event.returncode) == (
        workload.ti_id,
        1,
        EXIT_NOT_CLAIMED,
    )
    assert "socket is gone" in (event.reason or "")
    assert executor.running_count == 0
