"""Pieces of the task process that can be checked in-process."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime

import pytest

from dagruns.sdk import DAG, BashOperator
from scheduler.runner import task_process
from scheduler.runner.task_process import (
    MAX_RENDERED_FIELD_LENGTH,
    AirflowTaskTerminated,
    deferring_sigterm,
    rendered_fields,
)


@pytest.fixture
def sigterm_handler():
    previous = signal.signal(signal.SIGTERM, task_process._on_sigterm)
    task_process._runtime.interruptible = True
    task_process._runtime.deferred = False
    task_process._runtime.deadline = None
    yield
    signal.signal(signal.SIGTERM, previous)
    task_process._runtime.interruptible = True
    task_process._runtime.deferred = False


def test_sigterm_interrupts_the_task(sigterm_handler):
    with pytest.raises(AirflowTaskTerminated):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at the next bytecode boundary


def test_sigterm_inside_a_supervisor_exchange_waits_for_its_end(sigterm_handler):
    steps = []
    with pytest.raises(AirflowTaskTerminated), deferring_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        steps.append("exchange finished")
    assert steps == ["exchange finished"]


def test_a_second_sigterm_does_not_interrupt_the_cleanup(sigterm_handler):
    with pytest.raises(AirflowTaskTerminated):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    os.kill(os.getpid(), signal.SIGTERM)  # ignored: callbacks and the result must go out


def test_rendered_fields_are_json_safe_and_long_values_truncated():
    with DAG("d", schedule=None, start_date=datetime(2024, 1, 1), auto_register=False):
        task = BashOperator(
            task_id="t",
            bash_command="x" * (MAX_RENDERED_FIELD_LENGTH + 10),
            env={"WHEN": datetime(2024, 1, 1)},
        )

    fields = rendered_fields(task)

    assert fields["bash_command"].startswith("x" * MAX_RENDERED_FIELD_LENGTH + "... [truncated")
    assert fields["env"] == {"WHEN": "2024-01-01T00:00:00"}
    assert fields["cwd"] is None
