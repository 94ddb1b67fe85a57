"""The runner end to end: tries that fail, crash, time out or cannot even start."""

from __future__ import annotations

import os
import signal

import pytest

from scheduler.runner.supervisor import EXIT_OK
from tests.polling import wait_until

pytestmark = pytest.mark.slow

HEADER = """
import os, sys, time
from datetime import datetime
from dagruns.sdk import DAG, task, BashOperator, AirflowFailException, AirflowSkipException

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
"""


def dag_with(body: str) -> str:
    return HEADER + "\n".join("    " + line for line in body.strip("\n").splitlines()) + "\n"


def test_an_exception_fails_the_task_with_its_traceback_in_the_log(make_try):
    t = make_try(
        dag_with("""
@task
def broken():
    raise ValueError("the input was bad")
broken()
"""),
        "broken",
    )

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Traceback (most recent call last)" in log
    assert "ValueError: the input was bad" in log
    assert "Marking task as FAILED" in log


def test_a_failure_with_retries_left_becomes_up_for_retry(make_try):
    t = make_try(
        dag_with("""
@task(retries=2)
def flaky():
    raise RuntimeError("try again")
flaky()
"""),
        "flaky",
    )

    assert t.run().returncode == EXIT_OK
    ti = t.refresh()
    assert ti.state == "up_for_retry"
    assert ti.next_retry_at is not None
    assert "Marking task as UP_FOR_RETRY" in t.log()


def test_airflow_fail_exception_fails_without_using_retries(make_try):
    t = make_try(
        dag_with("""
@task(retries=2)
def hopeless():
    raise AirflowFailException("no point retrying")
hopeless()
"""),
        "hopeless",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert "AirflowFailException: no point retrying" in t.log()


def test_airflow_skip_exception_skips_the_task(make_try):
    t = make_try(
        dag_with("""
@task
def nothing_to_do():
    raise AirflowSkipException("no new files")
nothing_to_do()
"""),
        "nothing_to_do",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "skipped"
    assert "no new files" in t.log()


def test_sys_exit_fails_the_task_naming_the_exit_code(make_try):
    t = make_try(
        dag_with("""
@task(retries=1)
def quitter():
    print("about to exit")
    sys.exit(3)
quitter()
"""),
        "quitter",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "up_for_retry"  # a crash is an ordinary failure
    log = t.log()
    assert "about to exit" in log
    assert "exited with code 3 without reporting a result" in log


def test_os_exit_without_a_result_fails_the_task(make_try):
    t = make_try(
        dag_with("""
@task
def vanish():
    os._exit(0)
vanish()
"""),
        "vanish",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert "exited with code 0 without reporting a result" in t.log()


def test_a_sigkilled_task_process_fails_the_task_naming_the_signal(make_try):
    t = make_try(
        dag_with("""
@task
def sleeper():
    print("sleeping", flush=True)
    time.sleep(60)
sleeper()
"""),
        "sleeper",
    )
    runner = t.start()
    task_pid = runner.task_pid()
    wait_until(lambda: "sleeping" in t.log(), "the task's first line in the log", timeout=10)

    os.kill(task_pid, signal.SIGKILL)
    result = runner.wait(timeout=30)

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    assert "was killed by signal 9 (SIGKILL) without reporting a result" in t.log()


def test_a_return_value_that_is_not_json_fails_the_task(make_try):
    t = make_try(
        dag_with("""
@task
def odd():
    return {1, 2, 3}
odd()
"""),
        "odd",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert t.xcom() is None
    log = t.log()
    assert "XCom value for key 'return_value' of task 'odd' is not JSON-serializable" in log
    assert "set" in log


def test_an_xcom_over_the_servers_limit_fails_with_the_servers_message(make_try, orch_settings):
    orch_settings.xcom_max_size = 100
    t = make_try(
        dag_with("""
@task
def big():
    return "x" * 1000
big()
"""),
        "big",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert "is too large: XCom value is 1002 bytes of JSON, over the limit of 100 bytes" in t.log()


def test_a_task_past_its_execution_timeout_is_killed_and_failed(make_try):
    t = make_try(
        dag_with("""
def report(context):
    print("failure callback got", type(context["exception"]).__name__)

@task(execution_timeout=1, on_failure_callback=report)
def too_slow():
    print("starting", flush=True)
    time.sleep(60)
too_slow()
"""),
        "too_slow",
    )

    result = t.run(timeout=30)

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Task timed out after 1 s (execution_timeout)" in log
    assert "AirflowTaskTimeout" in log
    assert "failure callback got AirflowTaskTimeout" in log


def test_a_task_ignoring_sigterm_is_killed_after_the_grace_period(make_try):
    t = make_try(
        dag_with("""
import signal

@task(execution_timeout=0.5)
def stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
stubborn()
"""),
        "stubborn",
    )

    result = t.run(timeout=30)

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    log = t.log()
    assert "sending SIGKILL" in log
    assert "Task timed out after 0.5 s" in log


def test_a_template_syntax_error_fails_naming_task_field_and_problem(make_try):
    t = make_try(
        dag_with("""
BashOperator(task_id="echo", bash_command="echo {{ ds ")
"""),
        "echo",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Could not render template field 'bash_command' of task 'echo'" in log
    assert "TemplateSyntaxError" in log


def test_an_undefined_template_name_fails_naming_it(make_try):
    t = make_try(
        dag_with("""
BashOperator(task_id="echo", bash_command="echo {{ not_a_thing }}")
"""),
        "echo",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Could not render template field 'bash_command' of task 'echo'" in log
    assert "'not_a_thing' is undefined" in log


def test_a_task_missing_from_the_dag_file_fails_clearly(make_try):
    t = make_try(
        dag_with("""
@task
def present():
    pass
present()
"""),
        "present",
    )
    t.dag_file.write_text(t.dag_file.read_text().replace("present", "renamed"))

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert "Task 'present' not found in DAG 'runner_test'" in t.log()


def test_a_dag_file_that_no_longer_imports_fails_with_its_traceback(make_try):
    t = make_try(
        dag_with("""
@task
def fine():
    pass
fine()
"""),
        "fine",
    )
    t.dag_file.write_text("import not_a_module_anywhere\n")

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Failed to import DAG file" in log
    assert "ModuleNotFoundError" in log
