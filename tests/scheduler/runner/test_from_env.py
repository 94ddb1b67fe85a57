"""`python -m scheduler.runner --from-env`: a pod's workload from its environment, the token
from the Secret's variable, both gone from the environment before the task starts."""

from __future__ import annotations

import json
import os

import pytest

from scheduler.runner.__main__ import _workload_from_env
from scheduler.runner.pod_env import TOKEN_ENV, WORKLOAD_ENV


def test_the_workload_and_its_token_are_taken_out_of_the_environment(monkeypatch):
    monkeypatch.setenv(WORKLOAD_ENV, json.dumps({"version": 2, "ti_id": "x", "token": ""}))
    monkeypatch.setenv(TOKEN_ENV, "secret")
    data = json.loads(_workload_from_env())
    assert data == {"version": 2, "ti_id": "x", "token": "secret"}
    assert WORKLOAD_ENV not in os.environ and TOKEN_ENV not in os.environ


@pytest.mark.parametrize(
    ("workload", "token", "problem"),
    [
        (None, "t", f"${WORKLOAD_ENV} is not set"),
        ("{}", None, f"${TOKEN_ENV} is not set"),
        ("{nope", "t", f"${WORKLOAD_ENV} is not JSON"),
        ("[1]", "t", f"${WORKLOAD_ENV} is not a JSON object"),
    ],
)
def test_a_missing_or_malformed_variable_is_named(monkeypatch, workload, token, problem):
    for name, value in ((WORKLOAD_ENV, workload), (TOKEN_ENV, token)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        _workload_from_env()
    assert problem in str(exited.value.code)
