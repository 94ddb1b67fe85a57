"""WorkflowTrigger and DagStateTrigger: Airflow's constructor arguments, serialized forms and
event payloads, polling the states the installed reader answers (the trigger runner's
Execution API client in the triggerer) every poke_interval / poll_interval."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dagruns.sdk import DagStateTrigger, WorkflowTrigger
from dagruns.sdk.exceptions import AirflowException
from dagruns.sdk.triggers import states
from dagruns.sdk.triggers.serde import decode_kwargs, encode_kwargs

DAY = datetime(2024, 1, 2, tzinfo=UTC)


class ScriptedReader:
    """Answers each path from its own list of answers, in turn (the last one repeats)."""

    def __init__(self, **answers: list[Any]) -> None:
        self.answers = {path.replace("_", "/"): list(a) for path, a in answers.items()}
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def read(self, path: str, query: dict[str, Any]) -> Any:
        self.asked.append((path, query))
        key = path if path in self.answers else path.rsplit("/", 1)[-1]
        queue = self.answers[key]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def reader() -> Iterator[Any]:
    def install(**answers: list[Any]) -> ScriptedReader:
        scripted = ScriptedReader(**answers)
        states.install(scripted)
        return scripted

    yield install
    states.install(None)


def first_payload(trigger) -> Any:
    async def first():
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), 30))


def rebuilt(trigger):
    """What the triggerer runs: the class rebuilt from the stored, encoded kwargs."""
    classpath, kwargs = trigger.serialize()
    assert classpath.startswith("airflow.providers.standard.triggers.external_task.")
    return type(trigger)(**decode_kwargs(encode_kwargs(kwargs, "kwargs")))


def test_the_workflow_trigger_polls_until_every_run_is_allowed(reader):
    answered = reader(**{"dag-runs/count": [0, 0, 1]})
    trigger = rebuilt(
        WorkflowTrigger(
            external_dag_id="other", logical_dates=[DAY], allowed_states=["success"],
            poke_interval=0,
        )
    )  # fmt: skip
    assert first_payload(trigger) == {"status": "success"}
    assert len(answered.asked) == 3
    assert answered.asked[0] == (
        "dag-runs/count",
        {"dag_id": "other", "logical_dates": [DAY.isoformat()], "states": ["success"]},
    )


def test_the_workflow_trigger_keeps_polling_while_nothing_failed_then_reports_failed(reader):
    # Airflow's provider answers "success" at once when nothing has failed yet: not here.
    # In turn: failed, allowed (a poll), failed, allowed (a poll), failed.
    answered = reader(**{"task-instances/count": [0, 0, 0, 0, 1]})
    trigger = WorkflowTrigger(
        external_dag_id="other", external_task_ids=["a"], logical_dates=[DAY],
        failed_states=["failed"], allowed_states=["success"], poke_interval=0,
    )  # fmt: skip
    assert first_payload(trigger) == {"status": "failed"}
    assert [query["states"] for _, query in answered.asked] == [
        ["failed"], ["success"], ["failed"], ["success"], ["failed"],
    ]  # fmt: skip


def test_the_workflow_trigger_reports_skipped(reader):
    reader(**{"task-instances/count": [2]})  # both tasks skipped
    trigger = WorkflowTrigger(
        external_dag_id="other", external_task_ids=["a", "b"], logical_dates=[DAY],
        skipped_states=["skipped"], allowed_states=["success"], poke_interval=0,
    )  # fmt: skip
    assert first_payload(trigger) == {"status": "skipped"}


def test_the_workflow_trigger_counts_a_task_group_by_runs(reader):
    group = {"task_states": {"r1": {"g.a": "success", "g.b": "running"}}}
    done = {"task_states": {"r1": {"g.a": "success", "g.b": "success"}}}
    answered = reader(**{"task-instances/states": [group, done]})
    trigger = WorkflowTrigger(
        external_dag_id="other", external_task_group_id="g", logical_dates=[DAY],
        allowed_states=["success"], poke_interval=0,
    )  # fmt: skip
    assert first_payload(trigger) == {"status": "success"}
    assert answered.asked[-1][1]["task_group_id"] == "g"


def test_the_dag_state_trigger_fires_with_airflows_event_naming_each_runs_state(reader):
    answered = reader(**{"dag-runs/count": [0, 1], "state": [{"state": "failed"}]})
    trigger = rebuilt(
        DagStateTrigger(
            dag_id="child", states=["success", "failed"], run_ids=["manual__1"],
            execution_dates=[DAY], poll_interval=0,
        )
    )  # fmt: skip
    classpath, data = first_payload(trigger)
    assert classpath == "airflow.providers.standard.triggers.external_task.DagStateTrigger"
    assert data == {
        "dag_id": "child",
        "states": ["success", "failed"],
        "poll_interval": 0,
        "run_ids": ["manual__1"],
        "execution_dates": [DAY],
        "manual__1": "failed",
    }
    assert answered.asked[-1] == ("dag-runs/child/manual__1/state", {})


@pytest.mark.usefixtures("shim")
def test_airflows_import_path_gives_both_triggers():
    from airflow.providers.standard.triggers.external_task import DagStateTrigger as States
    from airflow.providers.standard.triggers.external_task import WorkflowTrigger as Workflow

    assert (States, Workflow) == (DagStateTrigger, WorkflowTrigger)


def test_a_trigger_outside_the_triggerer_fails_naming_what_it_asked():
    trigger = WorkflowTrigger(external_dag_id="other", logical_dates=[DAY], poke_interval=0)
    with pytest.raises(AirflowException, match=r"dag-runs/count.*needs the triggerer"):
        first_payload(trigger)
