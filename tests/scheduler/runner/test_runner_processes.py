"""The runner's processes: started by the local executor, stopped by signals, and what happens
when the API cannot be reached."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from scheduler.executors.local import LocalExecutor
from scheduler.runner.client import ExecutionClient
from scheduler.runner.supervisor import (
    EXIT_NOT_CLAIMED,
    EXIT_OK,
    describe_exit,
    supervise,
)
from scheduler.runner.workload import Workload
from tests.polling import wait_until

HEADER = """
import time
from datetime import datetime
from dagruns.sdk import DAG, task

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
"""

SLEEPER = (
    HEADER
    + """
    @task
    def sleeper():
        print("sleeping", flush=True)
        time.sleep(60)
    sleeper()
"""
)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0): it is gone for our purposes once it is not running.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1].startswith("Z")


@pytest.mark.slow
def test_the_local_executor_runs_a_try_through_its_forkserver(make_try):
    t = make_try(
        HEADER
        + """
    @task
    def hello():
        print("hello from the forkserver")
        return 42
    hello()
""",
        "hello",
    )
    executor = LocalExecutor(parallelism=2)
    executor.start()
    try:
        executor.queue(Workload.parse(dict(t.workload)))
        events = wait_until(executor.sync, "the runner to end", timeout=60)
    finally:
        executor.end()

    assert [(e.ti_id, e.returncode) for e in events] == [(str(t.ti.pk), EXIT_OK)]
    assert t.refresh().state == "success"
    assert t.xcom() == 42
    assert "hello from the forkserver" in t.log()


@pytest.mark.slow
def test_sigterm_to_the_runner_terminates_the_task_and_reports_failed(make_try):
    t = make_try(SLEEPER, "sleeper")
    runner = t.start()
    task_pid = runner.task_pid()
    wait_until(lambda: "sleeping" in t.log(), "the task's first line in the log", timeout=10)

    runner.process.send_signal(signal.SIGTERM)
    result = runner.wait(timeout=30)

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    log = t.log()
    assert "The task runner received SIGTERM; terminating the task" in log
    assert "AirflowTaskTerminated: Task received SIGTERM signal" in log
    assert gone(task_pid)


@pytest.mark.slow
def test_a_sigkilled_runner_takes_its_task_process_group_down(make_try):
    t = make_try(SLEEPER, "sleeper")
    runner = t.start()
    task_pid = runner.task_pid()
    wait_until(lambda: "sleeping" in t.log(), "the task's first line in the log", timeout=10)

    os.killpg(runner.process.pid, signal.SIGKILL)  # what LocalExecutor.terminate() does
    runner.process.wait(timeout=10)

    wait_until(lambda: gone(task_pid), "the orphaned task process to die", timeout=10)
    assert t.refresh().state == "running"  # the scheduler fails it from the exit code


def test_an_unreachable_api_at_claim_time_exits_non_zero(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workload = {
        "version": 2,
        "ti_id": "00000000-0000-0000-0000-000000000001",
        "dag_id": "d",
        "run_id": "r",
        "task_id": "t",
        "try_number": 1,
        "dag_fileloc": "/nonexistent.py",
        "api_url": f"http://127.0.0.1:{port}",
        "token": "t",
    }
    client = ExecutionClient(workload["api_url"], "t", attempts=2, sleep=lambda s: None)

    started = time.monotonic()
    assert supervise(workload, client) == EXIT_NOT_CLAIMED
    assert time.monotonic() - started < 10
    assert "could not reach the Execution API to claim" in capsys.readouterr().err


def test_exit_statuses_are_described_by_code_or_signal():
    assert describe_exit(3 << 8) == "exited with code 3"
    assert describe_exit(signal.SIGKILL) == "was killed by signal 9 (SIGKILL)"
    assert describe_exit(signal.SIGSEGV) == "was killed by signal 11 (SIGSEGV)"


def test_a_claim_that_cannot_reach_the_api_is_retried_then_given_back(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workload = {
        "version": 2,
        "ti_id": "00000000-0000-0000-0000-000000000002",
        "dag_id": "d",
        "run_id": "r",
        "task_id": "t",
        "try_number": 1,
        "dag_fileloc": "/nonexistent.py",
        "api_url": f"http://127.0.0.1:{port}",
        "token": "t",
        "report_retry_timeout": 1.0,
    }
    slept: list[float] = []
    client = ExecutionClient(workload["api_url"], "t", sleep=slept.append)

    assert supervise(workload, client) == EXIT_NOT_CLAIMED
    assert "giving it back to the queue" in capsys.readouterr().err
    assert sum(slept) <= 1.0 and len(slept) >= 3, "retried with backoff within the patience"


@pytest.mark.slow
def test_the_same_try_queued_again_after_a_termination_can_be_terminated_again(make_try):
    """A reschedule-mode sensor: the orphan check terminated its runner that had just
    reported up_for_reschedule, and the same try is queued again: a clear must still be able
    to stop the new runner at once."""
    t = make_try(SLEEPER, "sleeper")
    executor = LocalExecutor(parallelism=2)
    executor.start()
    try:
        executor.queue(Workload.parse(dict(t.workload)))
        assert executor.terminate(str(t.ti.pk))
        executor.queue(Workload.parse(dict(t.workload)))
        assert executor.terminate(str(t.ti.pk))
    finally:
        executor.end()
