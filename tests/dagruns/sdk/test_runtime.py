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


class _Serves:
    def __init__(self, name: str) -> None:
        self.name = name


def test_serving_answers_in_its_block_and_thread_only():
    import threading

    process_wide = _Serves("process")
    scoped = _Serves("scoped")
    seen_elsewhere: list[object] = []
    runtime.install(process_wide)  # type: ignore[arg-type]
    try:
        with runtime.serving(scoped):  # type: ignore[arg-type]
            assert runtime.current("x") is scoped
            other = threading.Thread(target=lambda: seen_elsewhere.append(runtime.current("x")))
            other.start()
            other.join()
        assert seen_elsewhere == [process_wide]
        assert runtime.current("x") is process_wide
    finally:
        runtime.install(None)
