"""The runtime task instance's sensor helpers: the first reschedule date and other DAGs'
states, asked of the supervisor."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from dagruns.sdk import AirflowException
from scheduler.runner.comms import RequestFailed
from scheduler.runner.context import RuntimeTaskInstance

WHEN = datetime(2024, 1, 2, tzinfo=UTC)


class Answers:
    """A supervisor answering each op with a fixed value; records the requests."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def request(self, op: str, **args: Any) -> Any:
        self.requests.append((op, args))
        answer = self.answers[op]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ti(comms, *, try_number=1, max_tries=0, retries=0) -> RuntimeTaskInstance:
    return RuntimeTaskInstance(
        comms,
        dag_id="d",
        run_id="r",
        task_id="s",
        try_number=try_number,
        max_tries=max_tries,
        task=SimpleNamespace(retries=retries),
    )


def test_the_first_run_of_a_first_try_does_not_ask():
    comms = Answers()
    assert ti(comms).get_first_reschedule_date({"task_reschedule_count": 0}) is None
    assert comms.requests == []


def test_a_rescheduled_try_asks_from_the_first_try_since_the_clear():
    comms = Answers(get_task_reschedule_start_date=WHEN.isoformat())
    # Cleared at try 3 with 2 retries: max_tries 5, so the tries since the clear start at 4.
    got = ti(comms, try_number=5, max_tries=5, retries=2).get_first_reschedule_date(
        {"task_reschedule_count": 0}
    )
    assert got == WHEN
    assert comms.requests == [("get_task_reschedule_start_date", {"try_number": 4})]


def test_a_failed_request_is_an_airflow_exception():
    comms = Answers(
        get_task_reschedule_start_date=RequestFailed(
            "get_task_reschedule_start_date", 500, None, "boom"
        )
    )
    with pytest.raises(AirflowException, match="first reschedule date"):
        ti(comms).get_first_reschedule_date({"task_reschedule_count": 2})


def test_other_dags_states_are_asked_with_iso_dates():
    comms = Answers(get_ti_count=3, get_dr_count=1, get_task_states={"task_states": {"r": {}}})
    runtime = ti(comms)
    assert runtime.get_ti_count("o", task_ids=["a"], logical_dates=[WHEN], states=["success"]) == 3
    assert runtime.get_dr_count("o", logical_dates=[WHEN]) == 1
    assert runtime.get_task_states("o", task_group_id="g") == {"r": {}}
    assert comms.requests[0] == (
        "get_ti_count",
        {
            "dag_id": "o",
            "map_index": None,
            "task_ids": ["a"],
            "task_group_id": None,
            "logical_dates": [WHEN.isoformat()],
            "run_ids": None,
            "states": ["success"],
        },
    )
