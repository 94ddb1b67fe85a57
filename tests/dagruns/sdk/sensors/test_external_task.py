"""ExternalTaskSensor's decisions over the other DAG's states (read through context["ti"])
and its argument checks; ExternalTaskMarker's arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk import (
    DAG,
    AirflowSkipException,
    DagDefinitionError,
    ExternalTaskMarker,
    ExternalTaskSensor,
    TaskDeferred,
    WorkflowTrigger,
)
from dagruns.sdk.sensors.external_task import (
    DuplicateStateError,
    ExternalDagDeletedError,
    ExternalDagFailedError,
    ExternalDagNotFoundError,
    ExternalTaskFailedError,
    ExternalTaskGroupNotFoundError,
    ExternalTaskNotFoundError,
    count_runs_matching,
)

LOGICAL = datetime(2024, 1, 2, tzinfo=UTC)


class StatesTI:
    """context["ti"] answering from fixed states: {logical_date: {task_id: state}} for task
    instances and {logical_date: state} for runs; records what was asked."""

    def __init__(self, tis=None, runs=None):
        self.tis = tis or {}
        self.runs = runs or {}
        self.asked = []

    def get_ti_count(self, dag_id, task_ids, logical_dates, states=None, **_):
        self.asked.append(("ti", dag_id, tuple(task_ids), tuple(logical_dates)))
        return sum(
            1
            for date in logical_dates
            for task_id, state in self.tis.get(date, {}).items()
            if task_id in task_ids and (states is None or state in states)
        )

    def get_task_states(self, dag_id, task_group_id, logical_dates, **_):
        return {
            date.isoformat(): self.tis.get(date, {}) for date in logical_dates if date in self.tis
        }

    def get_dag(self, dag_id):
        self.asked.append(("dag", dag_id))
        return self.dag

    dag: dict | None = {"dag_id": "other", "is_paused": False, "is_active": True}

    def get_dr_count(self, dag_id, logical_dates, states=None, **_):
        self.asked.append(("dr", dag_id, tuple(logical_dates)))
        return sum(
            1
            for date in logical_dates
            if date in self.runs and (states is None or self.runs[date] in states)
        )


def sensor(**kwargs):
    with DAG("waiting"):
        return ExternalTaskSensor(task_id="s", external_dag_id="other", **kwargs)


def context(ti):
    return {"ti": ti, "logical_date": LOGICAL}


def test_it_waits_for_every_external_task_to_succeed():
    s = sensor(external_task_ids=["a", "b"])
    assert s.poke(context(StatesTI({LOGICAL: {"a": "success", "b": "running"}}))) is False
    assert s.poke(context(StatesTI({LOGICAL: {"a": "success", "b": "success"}}))) is True


def test_without_tasks_it_waits_for_the_dag_run():
    s = sensor()
    assert s.poke(context(StatesTI(runs={LOGICAL: "running"}))) is False
    assert s.poke(context(StatesTI(runs={LOGICAL: "success"}))) is True


def test_execution_delta_looks_at_an_earlier_logical_date():
    ti = StatesTI(runs={LOGICAL - timedelta(days=1): "success"})
    assert sensor(execution_delta=timedelta(days=1)).poke(context(ti)) is True
    assert ti.asked == [("dr", "other", (LOGICAL - timedelta(days=1),))]


def test_execution_date_fn_gets_the_logical_date_and_the_context_it_asks_for():
    def two_days(logical_date, ti):
        assert ti is not None
        return [logical_date, logical_date - timedelta(days=1)]

    ti = StatesTI(runs={LOGICAL: "success"})
    assert sensor(execution_date_fn=two_days).poke(context(ti)) is False  # one of two ran
    ti.runs[LOGICAL - timedelta(days=1)] = "success"
    assert sensor(execution_date_fn=two_days).poke(context(ti)) is True


def test_a_failed_state_fails_at_once_or_skips_with_soft_fail():
    ti = StatesTI({LOGICAL: {"a": "failed"}})
    with pytest.raises(
        ExternalTaskFailedError, match=r"external tasks \['a'\] in DAG other failed"
    ):
        sensor(external_task_id="a", failed_states=["failed"]).poke(context(ti))
    with pytest.raises(AirflowSkipException, match="soft_fail"):
        sensor(external_task_id="a", failed_states=["failed"], soft_fail=True).poke(context(ti))
    with pytest.raises(ExternalDagFailedError):
        sensor(failed_states=["failed"]).poke(context(StatesTI(runs={LOGICAL: "failed"})))


def test_a_skipped_state_skips():
    ti = StatesTI({LOGICAL: {"a": "skipped"}})
    with pytest.raises(AirflowSkipException, match="states-to-skip-on"):
        sensor(external_task_id="a", skipped_states=["skipped"]).poke(context(ti))


def test_a_task_group_is_done_when_all_its_tasks_are():
    s = sensor(external_task_group_id="g")
    assert s.poke(context(StatesTI({LOGICAL: {"g.a": "success", "g.b": "queued"}}))) is False
    assert s.poke(context(StatesTI({LOGICAL: {"g.a": "success", "g.b": "success"}}))) is True


def test_check_existence_waits_for_the_run_then_requires_its_tasks():
    s = sensor(external_task_id="a", check_existence=True)
    assert s.poke(context(StatesTI())) is False  # no run yet: nothing to conclude
    assert s._has_checked_existence is False
    ti = StatesTI({LOGICAL: {"b": "success"}}, runs={LOGICAL: "running"})
    with pytest.raises(ExternalTaskNotFoundError, match="external task a in Dag other"):
        s.poke(context(ti))


def test_check_existence_of_a_task_group():
    s = sensor(external_task_group_id="g", check_existence=True)
    ti = StatesTI(runs={LOGICAL: "running"})
    with pytest.raises(ExternalTaskGroupNotFoundError, match="task group 'g'"):
        s.poke(context(ti))
    ti.tis[LOGICAL] = {"g.a": "success"}
    assert s.poke(context(ti)) is True
    assert s._has_checked_existence is True


def test_count_runs_matching_ignores_runs_without_tasks():
    assert count_runs_matching({"r1": {}, "r2": {"a": "success"}}, ["success"]) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"allowed_states": ["success"], "failed_states": ["success"]},
            DuplicateStateError,
            "Duplicate",
        ),
        ({"external_task_id": "a", "external_task_ids": ["b"]}, DagDefinitionError, "Only one of"),
        (
            {"external_task_id": "a", "external_task_group_id": "g"},
            DagDefinitionError,
            "Only one of",
        ),
        ({"allowed_states": ["upstream_failed"]}, DagDefinitionError, "Valid values"),
        (
            {"external_task_id": "a", "allowed_states": ["bogus"]},
            DagDefinitionError,
            "Valid values",
        ),
        (
            {"execution_delta": timedelta(1), "execution_date_fn": lambda d: d},
            DagDefinitionError,
            "execution_delta",
        ),
    ],
)
def test_bad_arguments_fail_the_dag_file(kwargs, error, message):
    with pytest.raises(error, match=message):
        sensor(**kwargs)


def test_external_task_marker_checks_its_arguments():
    with DAG("d"):
        marker = ExternalTaskMarker(task_id="m", external_dag_id="o", external_task_id="t")
        assert (marker.recursion_depth, marker.logical_date) == (
            10,
            "{{ logical_date.isoformat() }}",
        )
        with pytest.raises(DagDefinitionError, match="recursion_depth"):
            ExternalTaskMarker(
                task_id="n", external_dag_id="o", external_task_id="t", recursion_depth=0
            )


def test_a_markers_recursion_depth_is_serialized_and_survives_a_round_trip():
    from dagruns.sdk import EmptyOperator, deserialize_dag, serialize_dag

    with DAG("d", auto_register=False) as dag:
        ExternalTaskMarker(
            task_id="m", external_dag_id="o", external_task_id="t", recursion_depth=3
        )
        EmptyOperator(task_id="plain")
    data = serialize_dag(dag)
    tasks = {t["task_id"]: t for t in data["tasks"]}
    assert tasks["m"]["extra_fields"] == {"recursion_depth": 3}
    assert "extra_fields" not in tasks["plain"]  # every other task's form is unchanged
    assert serialize_dag(deserialize_dag(data)) == data


def test_deferrable_defers_on_the_workflow_trigger_with_the_sensors_timeout():
    waiting = sensor(
        external_task_ids=["a", "b"],
        failed_states=["failed"],
        skipped_states=["skipped"],
        execution_delta=timedelta(days=1),
        poll_interval=0.5,
        timeout=90,
        soft_fail=True,
        deferrable=True,
    )
    ti = StatesTI()
    with pytest.raises(TaskDeferred) as info:
        waiting.execute(context(ti))
    assert ti.asked == []  # no poke in the task: the trigger polls
    assert info.value.method_name == "execute_complete"
    assert info.value.timeout == timedelta(seconds=90)
    trigger = info.value.trigger
    assert isinstance(trigger, WorkflowTrigger)
    assert trigger.serialize() == (
        "airflow.providers.standard.triggers.external_task.WorkflowTrigger",
        {
            "external_dag_id": "other",
            "external_task_ids": ["a", "b"],
            "external_task_group_id": None,
            "failed_states": ["failed"],
            "skipped_states": ["skipped"],
            "allowed_states": ["success"],
            "poke_interval": 0.5,
            "soft_fail": True,
            "run_ids": None,
            "logical_dates": [LOGICAL - timedelta(days=1)],
        },
    )


def test_deferrable_check_existence_fails_for_a_missing_or_deleted_dag_before_deferring():
    ti = StatesTI()
    ti.dag = None
    with pytest.raises(ExternalDagNotFoundError, match="^The external DAG other does not exist.$"):
        sensor(check_existence=True, deferrable=True).execute(context(ti))
    ti.dag = {"dag_id": "other", "is_paused": False, "is_active": False}
    with pytest.raises(ExternalDagDeletedError, match="The external DAG other was deleted."):
        sensor(check_existence=True, deferrable=True).execute(context(ti))
    ti.dag = {"dag_id": "other", "is_paused": False, "is_active": True}
    ti.runs = {LOGICAL: "running"}
    ti.tis = {LOGICAL: {"b": "running"}}
    with pytest.raises(ExternalTaskNotFoundError, match="external task a in Dag other"):
        sensor(external_task_id="a", check_existence=True, deferrable=True).execute(context(ti))
    with pytest.raises(TaskDeferred):  # the DAG exists, its run not yet: wait in the trigger
        sensor(check_existence=True, deferrable=True).execute(context(StatesTI()))


@pytest.mark.parametrize(
    ("event", "soft_fail", "error", "message"),
    [
        ({"status": "skipped"}, False, AirflowSkipException, "External job has skipped"),
        ({"status": "failed"}, False, ExternalDagFailedError, r"failed states \['failed'\]"),
        ({"status": "failed"}, True, AirflowSkipException, "External job has failed skipping"),
        ({"status": "odd"}, False, ExternalTaskNotFoundError, "retrieve task status"),
        ({"status": "odd"}, True, AirflowSkipException, "External job has failed skipping"),
        (None, False, ExternalTaskNotFoundError, "No event received from trigger"),
    ],
)
def test_execute_complete_follows_the_triggers_status(event, soft_fail, error, message):
    waiting = sensor(failed_states=["failed"], soft_fail=soft_fail, deferrable=True)
    with pytest.raises(error, match=message):
        waiting.execute_complete(context(StatesTI()), event=event)


def test_execute_complete_succeeds_on_success():
    waiting = sensor(deferrable=True)
    assert waiting.execute_complete(context(StatesTI()), event={"status": "success"}) is None
    assert waiting.external_dates_filter == LOGICAL.isoformat()
