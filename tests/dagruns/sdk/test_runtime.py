"""`get_current_context()`: the running task's context, Airflow's error elsewhere."""

from __future__ import annotations

import pytest

from dagruns.sdk import get_current_context, runtime


def test_outside_a_task_it_raises_airflows_runtime_error():
    with pytest.raises(RuntimeError, match="no context was found! Are you running within"):
        get_current_context()


def test_it_returns_the_context_the_runner_set_and_nothing_after():
    context = {"run_id": "r1"}
    runtime.use_context(context)
    try:
        assert get_current_context() is context
    finally:
        runtime.use_context(None)
    with pytest.raises(RuntimeError):
        get_current_context()


def test_the_parsing_context_is_empty_unless_the_runner_names_its_task():
    assert runtime.get_parsing_context() == (None, None)
    with runtime.parsing_context("etl", "load"):
        context = runtime.get_parsing_context()
        assert (context.dag_id, context.task_id) == ("etl", "load")
    assert runtime.get_parsing_context() == (None, None)
