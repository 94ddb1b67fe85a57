"""SkipMixin as Airflow 3's: skip()/skip_all_except() record the skipmixin_key XCom and raise
DownstreamTasksSkipped naming what to skip; mapped instances name their own map index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    BaseOperator,
    BranchPythonOperator,
    DownstreamTasksSkipped,
    EmptyOperator,
    TaskGroup,
    task,
    task_group,
)
from dagruns.sdk.skipmixin import XCOM_SKIPMIXIN_KEY, SkipMixin

from .conftest import FakeTI

START = datetime(2024, 1, 1)


class Gate(BaseOperator, SkipMixin):
    def execute(self, context: Any) -> None:
        pass


def ti_for(op: Any, map_index: int = -1) -> FakeTI:
    ti = FakeTI()
    ti.task = op  # type: ignore[attr-defined]
    ti.map_index = map_index  # type: ignore[attr-defined]
    return ti


def build() -> tuple[DAG, Gate]:
    with DAG("d", schedule=None, start_date=START) as dag:
        gate = Gate(task_id="gate")
        left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
        join = EmptyOperator(task_id="join")
        with TaskGroup("grp") as group:
            EmptyOperator(task_id="inner")
        gate >> [left, right, join, group]
        left >> join
    return dag, gate


def skipped_by(call) -> list[Any]:
    with pytest.raises(DownstreamTasksSkipped) as raised:
        call()
    return list(raised.value.tasks)


def test_skip_records_the_ids_and_raises_with_them():
    dag, gate = build()
    ti = ti_for(gate)
    group = next(g for g in dag.task_group.iter_groups() if g.group_id == "grp")
    tasks = [dag.get_task("right"), dag.get_task("join"), group]
    assert skipped_by(lambda: gate.skip(ti, tasks)) == ["right", "join"]  # groups are dropped
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"skipped": ["right", "join"]})]


def test_skip_of_nothing_does_nothing():
    _, gate = build()
    ti = ti_for(gate)
    gate.skip(ti, [])
    assert ti.pushed == []


def test_skip_all_except_skips_the_other_direct_downstream_tasks_but_not_a_join_below():
    _, gate = build()
    ti = ti_for(gate)
    assert sorted(skipped_by(lambda: gate.skip_all_except(ti, "left"))) == ["grp.inner", "right"]
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"followed": ["join", "left"]})]


def test_skip_all_except_following_everything_raises_nothing():
    _, gate = build()
    ti = ti_for(gate)
    gate.skip_all_except(ti, (t for t in ["left", "right", "grp.inner"]))
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"followed": ["grp.inner", "join", "left", "right"]})]


def test_skip_all_except_none_skips_every_direct_downstream_task():
    _, gate = build()
    assert sorted(skipped_by(lambda: gate.skip_all_except(ti_for(gate), None))) == [
        "grp.inner",
        "join",
        "left",
        "right",
    ]


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("nope", r"must contain only valid task_ids. Invalid tasks found: \['nope'\]"),
        ([1], r"invalid 'branch_task_ids': \{\(1, 'int'\)\}"),
        (3, r"must be either None, a task ID, or an Iterable of IDs, but got 'int'"),
    ],
)
def test_skip_all_except_refuses_bad_ids_as_airflow(choice, message):
    _, gate = build()
    with pytest.raises(AirflowException, match=message):
        gate.skip_all_except(ti_for(gate), choice)


def test_a_mapped_instance_names_its_own_map_index_in_its_mapped_group_only():
    with DAG("m", schedule=None, start_date=START) as dag:
        after = EmptyOperator(task_id="after")

        @task_group
        def group(value):
            @task
            def inner(v):
                return v

            gate = Gate(task_id="gate")
            gate >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
            inner(value) >> gate
            gate >> after

        group.expand(value=[1, 2])
    gate = dag.get_task("group.gate")
    ti = ti_for(gate, map_index=1)
    assert skipped_by(lambda: gate.skip_all_except(ti, "group.a")) == [("group.b", 1)]
    # Outside the mapped group nothing is skipped (Airflow's NotPreviouslySkippedDep reads the
    # XCom at the unmapped task's map index -1, where a mapped instance pushed none).
    gate.skip(ti_for(gate, map_index=1), [dag.get_task("after")])


def test_branch_operators_are_skip_mixins_as_in_airflow():
    assert issubclass(BranchPythonOperator, SkipMixin)
