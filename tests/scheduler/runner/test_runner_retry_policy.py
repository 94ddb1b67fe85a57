"""A task's retry_policy decides about a failed try in the task runner (Airflow 3.3), and the
server honours its decision: fail now, or retry after the policy's delay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.runner.supervisor import EXIT_OK

pytestmark = pytest.mark.slow

DAG_FILE = """
from datetime import datetime, timedelta
from dagruns.sdk import DAG, task
from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryPolicy, RetryRule

POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception="builtins.PermissionError", action=RetryAction.FAIL,
                  reason="Auth failure, not retryable"),
        RetryRule(exception=[ConnectionError, TimeoutError], retry_delay=timedelta(seconds=42)),
    ],
)

class Broken(RetryPolicy):
    def evaluate(self, exception, try_number, max_tries, context=None):
        raise RuntimeError("the policy itself failed")

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(retries=3, retry_policy=POLICY)
    def denied():
        raise PermissionError("no")

    @task(retries=3, retry_delay=timedelta(hours=1), retry_policy=POLICY)
    def unreachable():
        raise ConnectionRefusedError("later")

    @task(retries=3, retry_delay=timedelta(hours=1), retry_policy=POLICY)
    def other():
        raise ValueError("unmatched")

    @task(retries=3, retry_delay=timedelta(hours=1), retry_policy=Broken())
    def broken_policy():
        raise ValueError("x")

    denied(); unreachable(); other(); broken_policy()
"""


def test_a_fail_rule_fails_the_task_with_retries_left(make_try):
    t = make_try(DAG_FILE, "denied")
    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    log = t.log()
    assert "Retry policy decision: action=fail reason=Auth failure, not retryable" in log
    assert "Marking task as FAILED" in log


def test_a_retry_rule_sets_the_delay_before_the_next_try(make_try):
    t = make_try(DAG_FILE, "unreachable")
    assert t.run().returncode == EXIT_OK
    ti = t.refresh()
    assert ti.state == "up_for_retry"
    assert ti.next_retry_at - ti.end_date == timedelta(seconds=42)
    assert "reason=Matched rule for ConnectionRefusedError" in t.log()


@pytest.mark.parametrize("task_id", ["other", "broken_policy"])
def test_no_matching_rule_or_a_failing_policy_leaves_the_tasks_own_retry(make_try, task_id):
    t = make_try(DAG_FILE, task_id)
    assert t.run().returncode == EXIT_OK
    ti = t.refresh()
    assert ti.state == "up_for_retry"
    assert ti.next_retry_at - ti.end_date == timedelta(hours=1)
    if task_id == "broken_policy":
        assert "Retry policy evaluation failed, falling back to default behaviour" in t.log()
