"""Fencing (issue 9): nothing a try started outlives its runner, and the fence tells whether a
copy of a task instance is alive on this host."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest

from scheduler.executors.liveness import try_may_still_run_here
from scheduler.runner import fencing
from scheduler.runner.supervisor import EXIT_OK
from tests.polling import wait_until

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


DETACHING = """
import os, subprocess, sys
from datetime import datetime
from dagruns.sdk import DAG, task

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def detach(pids_file):
        # A child in its own session holding our stdout (the log pipe) ...
        session = subprocess.Popen(["sleep", "300"], start_new_session=True)
        # ... and a classic double-forked daemon, re-parented away from us.
        read, write = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                os.close(write)
                import time
                time.sleep(300)
            os._exit(0)
        os.close(write)
        daemon = int(os.read(read, 32))
        with open(pids_file, "w") as handle:
            handle.write(f"{session.pid} {daemon}")
        print("started", session.pid, daemon, flush=True)
        return "done"
    detach(pids_file="{pids}")
"""


def test_detached_children_holding_the_log_pipe_die_at_the_end_without_delaying_it(
    make_try, tmp_path
):
    pids_file = tmp_path / "pids"
    t = make_try(DETACHING.replace("{pids}", str(pids_file)), "detach")

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success"
    session, daemon = (int(pid) for pid in pids_file.read_text().split())
    assert not alive(session) and not alive(daemon), "the runner killed what the task left"
    # The end came from EOF on the pipe, not from giving up after the drain timeout.
    assert "still open" not in result.stderr
    assert "started" in t.log()
    assert not try_may_still_run_here(str(t.ti.pk))


SLEEPING = """
import time
from datetime import datetime
from dagruns.sdk import DAG, task

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def sleepy():
        time.sleep(300)
    sleepy()
"""


def test_the_task_process_dies_with_its_runner_and_the_fence_then_frees(make_try):
    t = make_try(SLEEPING, "sleepy")
    runner = t.start()
    task_pid = runner.task_pid()
    ti_id = str(t.ti.pk)
    assert try_may_still_run_here(ti_id), "a running try holds its fence"

    os.kill(runner.process.pid, signal.SIGKILL)  # the runner only, not its group
    runner.process.wait()

    wait_until(lambda: not alive(task_pid), "the task process to die", timeout=30)
    wait_until(lambda: not try_may_still_run_here(ti_id), "the fence to free", timeout=30)


def test_a_fence_is_held_until_released_and_a_second_holder_waits():
    name = str(uuid.uuid4())
    first = fencing.Fence(name)
    assert first.acquire(wait=0)
    assert fencing.fence_is_held(name)
    assert not fencing.Fence(name).acquire(wait=0.05)

    first.release()

    assert not fencing.fence_is_held(name)
    second = fencing.Fence(name)
    assert second.acquire(wait=0)
    second.release()


def test_a_try_on_another_host_is_not_ruled_in_from_here():
    name = str(uuid.uuid4())
    first = fencing.Fence(name)
    assert first.acquire(wait=0)
    try:
        assert try_may_still_run_here(name)
        assert not try_may_still_run_here(name, hostname="elsewhere.example")
    finally:
        first.release()
