"""ExceptionRetryPolicy's rules, in Airflow 3.3's terms: first match wins, classes or dotted
paths, subclasses unless told otherwise; a task accepts only a RetryPolicy."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from dagruns.sdk import DAG, DagDefinitionError, EmptyOperator
from dagruns.sdk.retry_policy import (
    ExceptionRetryPolicy,
    RetryAction,
    RetryDecision,
    RetryRule,
)

POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception="builtins.PermissionError", action=RetryAction.FAIL, reason="auth"),
        RetryRule(exception=[ConnectionError, "builtins.TimeoutError"], retry_delay=timedelta(1)),
        RetryRule(exception=OSError, action=RetryAction.FAIL, match_subclasses=False),
    ],
)


def decide(exc: BaseException) -> RetryDecision:
    return POLICY.evaluate(exception=exc, try_number=1, max_tries=3)


def test_the_first_matching_rule_decides():
    assert decide(PermissionError()) == RetryDecision(RetryAction.FAIL, None, "auth")
    retry = decide(ConnectionResetError())  # a subclass of ConnectionError
    assert retry.action is RetryAction.RETRY
    assert retry.retry_delay == timedelta(days=1)
    assert retry.reason == "Matched rule for ConnectionResetError"
    assert decide(TimeoutError()).action is RetryAction.RETRY


def test_exact_matching_and_the_default_when_nothing_matches():
    assert decide(OSError()).action is RetryAction.FAIL
    assert decide(FileNotFoundError()).action is RetryAction.DEFAULT  # not exactly OSError
    assert decide(ValueError()) == RetryDecision.default()
    strict = ExceptionRetryPolicy(rules=[], default=RetryAction.FAIL)
    assert strict.evaluate(ValueError(), 1, 1).action is RetryAction.FAIL


def test_a_path_that_does_not_import_warns_and_never_matches(caplog):
    with caplog.at_level(logging.WARNING):
        rule = RetryRule(exception="nowhere.SuchError")
    assert "could not be imported at parse time" in caplog.text
    assert not rule.matches(ValueError())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exception": "ValueError"}, "must be a dotted import path"),
        ({"exception": 42}, "must be an exception class"),
        ({"exception": ValueError, "action": "fail"}, "must be a RetryAction"),
        ({"exception": ValueError, "retry_delay": 30}, "retry_delay must be a timedelta"),
    ],
)
def test_bad_rules_are_refused(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        RetryRule(**kwargs)


def test_serialize_round_trips():
    again = ExceptionRetryPolicy.deserialize(POLICY.serialize())
    assert [rule.serialize() for rule in again.rules] == [r.serialize() for r in POLICY.rules]
    assert POLICY.serialize()["rules"][1]["exception"] == [
        "builtins.ConnectionError",
        "builtins.TimeoutError",
    ]


def test_a_task_takes_a_policy_and_refuses_anything_else():
    with DAG("d", start_date=datetime(2024, 1, 1)):
        assert EmptyOperator(task_id="ok", retry_policy=POLICY).retry_policy is POLICY
        with pytest.raises(DagDefinitionError, match="retry_policy must be a RetryPolicy"):
            EmptyOperator(task_id="bad", retry_policy={"rules": []})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "fail"}, "action"),
        ({"action": RetryAction.RETRY, "retry_delay": 30}, "retry_delay"),
        ({"reason": 5}, "reason"),
    ],
)
def test_a_decision_of_the_wrong_type_is_refused_naming_its_field(kwargs, field):
    with pytest.raises(TypeError, match=f"RetryDecision.{field} must be"):
        RetryDecision(**kwargs)


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: RetryRule(exception=[]), ValueError, "at least one exception class"),
        (lambda: RetryRule(exception=".ValueError"), ValueError, "dotted import path"),
        (lambda: RetryRule(exception="builtins."), ValueError, "dotted import path"),
        (
            lambda: ExceptionRetryPolicy(rules=RetryRule(exception=ValueError)),
            TypeError,
            "must be a list of RetryRule",
        ),
    ],
)
def test_malformed_rules_are_refused_naming_what_is_wrong(make, error, words):
    with pytest.raises(error, match=words):
        make()
