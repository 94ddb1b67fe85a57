"""TriggerDagRunOperator in the SDK: Airflow's import paths and arguments, deferring on
DagStateTrigger and finishing in execute_complete, what execute() asks the runtime for (run id, logical date, conf; the
XComs it pushes; skip or fail when the run exists; waiting until an allowed or failed state)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    AirflowSkipException,
    DagRunAlreadyExists,
    DagStateTrigger,
    TaskDeferred,
    TriggerDagRunOperator,
)
from dagruns.sdk import runtime as sdk_runtime

START = datetime(2024, 1, 1)


class FakeTi:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


class Seam:
    """The runtime a task process installs, recording the calls (states answered in turn)."""

    def __init__(self, states=(), exists: bool = False) -> None:
        self.calls: list[tuple] = []
        self.states = list(states)
        self.exists = exists

    def trigger_dag_run(self, dag_id, run_id, *, logical_date, conf, reset_dag_run):
        self.calls.append((dag_id, run_id, logical_date, conf, reset_dag_run))
        if self.exists and not reset_dag_run:
            raise DagRunAlreadyExists(dag_id, run_id)

    def get_dag_run_state(self, dag_id, run_id):
        return self.states.pop(0)


@pytest.fixture
def seam():
    installed = Seam()
    sdk_runtime.install(installed)
    yield installed
    sdk_runtime.install(None)


def operator(**kw) -> TriggerDagRunOperator:
    with DAG("parent", schedule=None, start_date=START):
        return TriggerDagRunOperator(task_id="trigger", trigger_dag_id="child", **kw)


def test_it_triggers_with_the_run_id_date_and_conf_and_pushes_the_run_id(seam):
    ti = FakeTi()
    when = datetime(2024, 5, 1, tzinfo=UTC)
    operator(trigger_run_id="r1", logical_date=when, conf={"a": 1}).execute({"ti": ti})
    assert seam.calls == [("child", "r1", "2024-05-01T00:00:00+00:00", {"a": 1}, False)]
    assert ti.pushed == {
        "trigger_run_id": "r1",
        "trigger_logical_date_iso": "2024-05-01T00:00:00+00:00",
    }


def test_without_a_logical_date_it_is_now_and_the_run_id_is_manual(seam):
    operator().execute({"ti": FakeTi()})
    _, run_id, logical_date, conf, _ = seam.calls[0]
    assert run_id == f"manual__{logical_date}" and conf == {}
    assert datetime.fromisoformat(logical_date) <= datetime.now(UTC)
    operator(logical_date=None, trigger_run_id="x").execute({"ti": FakeTi()})
    assert seam.calls[1][2] is None  # given None: a run without a logical date


def test_an_existing_run_fails_or_is_skipped(seam):
    seam.exists = True
    with pytest.raises(DagRunAlreadyExists, match="already exists for DAG child"):
        operator(trigger_run_id="r1").execute({"ti": FakeTi()})
    with pytest.raises(AirflowSkipException):
        operator(trigger_run_id="r1", skip_when_already_exists=True).execute({"ti": FakeTi()})
    operator(trigger_run_id="r1", reset_dag_run=True).execute({"ti": FakeTi()})
    assert seam.calls[-1][-1] is True


def test_waiting_ends_in_an_allowed_state_or_fails_in_a_failed_one(seam):
    seam.states = ["queued", "running", "success"]
    operator(wait_for_completion=True, poke_interval=0).execute({"ti": FakeTi()})
    assert seam.states == []
    seam.states = ["running", "failed"]
    with pytest.raises(AirflowException, match="child failed with failed state failed"):
        operator(wait_for_completion=True, poke_interval=0).execute({"ti": FakeTi()})
    seam.states = ["failed"]
    operator(
        wait_for_completion=True, poke_interval=0, allowed_states=["success", "failed"],
        failed_states=["upstream_failed"],
    ).execute({"ti": FakeTi()})  # fmt: skip


def test_conf_that_is_not_json_is_refused(seam):
    with pytest.raises(AirflowException, match="JSON Serializable"):
        operator(conf={"when": object()}).execute({"ti": FakeTi()})
    assert seam.calls == []


def test_a_deferrable_wait_triggers_then_defers_on_the_dag_state_trigger(seam):
    when = datetime(2024, 1, 2, tzinfo=UTC)
    op = operator(
        trigger_run_id="r1",
        logical_date=when,
        wait_for_completion=True,
        deferrable=True,
        poke_interval=3,
        failed_states=["failed", "queued"],
    )
    ti = FakeTi()
    with pytest.raises(TaskDeferred) as info:
        op.execute({"ti": ti})
    # Triggered once, never polled in the task (Seam.states is empty: a poll would raise).
    assert seam.calls == [("child", "r1", when.isoformat(), {}, False)]
    assert ti.pushed["trigger_run_id"] == "r1"
    assert info.value.method_name == "execute_complete"
    trigger = info.value.trigger
    assert isinstance(trigger, DagStateTrigger)
    assert trigger.serialize() == (
        "airflow.providers.standard.triggers.external_task.DagStateTrigger",
        {
            "dag_id": "child",
            "states": ["success", "failed", "queued"],
            "poll_interval": 3,
            "run_ids": ["r1"],
            "execution_dates": [when],
        },
    )


def test_execute_complete_fails_naming_the_failed_states_and_runs_or_finishes():
    op = operator(wait_for_completion=True, deferrable=True)
    classpath = "airflow.providers.standard.triggers.external_task.DagStateTrigger"
    op.execute_complete({}, event=(classpath, {"run_ids": ["r1"], "r1": "success"}))
    with pytest.raises(
        AirflowException, match=r"child failed with failed states \['failed'\] for run_ids \['r1'\]"
    ):
        op.execute_complete({}, event=(classpath, {"run_ids": ["r1"], "r1": "failed"}))
    with pytest.raises(AirflowException, match="Unexpected event"):
        op.execute_complete({}, event=None)
