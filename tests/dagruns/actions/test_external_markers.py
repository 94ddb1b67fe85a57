"""Clearing across DAGs through ExternalTaskMarker (Airflow's include_dependent_dags)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.actions.task_instances import InvalidSelection, select_task_instances
from dagruns.sdk import DAG, EmptyOperator, ExternalTaskMarker, ExternalTaskSensor
from tests.builders import add_run, store

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def _store(dag) -> object:
    return store(dag, fileloc=f"/dags/{dag.dag_id}.py")


def parent(depth: int = 10, logical_date: str | None = None):
    with DAG("parent", schedule=None, start_date=WHEN, auto_register=False) as dag:
        extra = {"logical_date": logical_date} if logical_date else {}
        EmptyOperator(task_id="work") >> ExternalTaskMarker(
            task_id="mark_child",
            external_dag_id="child",
            external_task_id="wait",
            recursion_depth=depth,
            **extra,
        )
    return _store(dag)


def child(marks_grandchild: bool = False):
    with DAG("child", schedule=None, start_date=WHEN, auto_register=False) as dag:
        wait = ExternalTaskSensor(
            task_id="wait", external_dag_id="parent", external_task_id="mark_child"
        )
        wait >> EmptyOperator(task_id="use")
        EmptyOperator(task_id="unrelated")
        if marks_grandchild:
            wait >> ExternalTaskMarker(
                task_id="mark_grandchild",
                external_dag_id="grandchild",
                external_task_id="wait",
                recursion_depth=1,
            )
    return _store(dag)


def grandchild():
    with DAG("grandchild", schedule=None, start_date=WHEN, auto_register=False) as dag:
        ExternalTaskSensor(
            task_id="wait", external_dag_id="child", external_task_id="mark_grandchild"
        )
    return _store(dag)


def done(dag_model, when=WHEN):
    tasks = [t["task_id"] for t in dag_model.latest_version().serialized["tasks"]]
    return add_run(dag_model, state="success", when=when, states=dict.fromkeys(tasks, "success"))


def keys(tis) -> set[tuple[str, str]]:
    return {(ti.dag_id, ti.task_id) for ti in tis}


def test_without_dependent_dags_markers_are_not_followed():
    run = done(parent())
    done(child())
    tis = select_task_instances("parent", run_ids=[run.run_id], task_ids=["mark_child"])
    assert keys(tis) == {("parent", "mark_child")}


def test_a_marker_adds_the_marked_task_and_its_downstream_at_the_same_logical_date():
    run = done(parent())
    child_model = child()
    same_day = done(child_model)
    done(child_model, when=WHEN + timedelta(days=1))  # another day: left alone
    tis = select_task_instances(
        "parent",
        run_ids=[run.run_id],
        task_ids=["work"],
        include_downstream=True,
        include_dependent_dags=True,
    )
    assert keys(tis) == {
        ("parent", "work"),
        ("parent", "mark_child"),
        ("child", "wait"),
        ("child", "use"),
    }
    assert {ti.run_id for ti in tis if ti.dag_id == "child"} == {same_day.run_id}


def test_following_markers_deeper_than_the_first_markers_depth_is_refused():
    run = done(parent(depth=1))
    done(child(marks_grandchild=True))
    done(grandchild())
    with pytest.raises(InvalidSelection, match="Maximum recursion depth 1 reached"):
        select_task_instances(
            "parent",
            run_ids=[run.run_id],
            task_ids=["mark_child"],
            include_dependent_dags=True,
        )


def test_two_levels_are_followed_when_the_first_marker_allows_them():
    run = done(parent(depth=2))
    done(child(marks_grandchild=True))
    done(grandchild())
    tis = select_task_instances(
        "parent", run_ids=[run.run_id], task_ids=["mark_child"], include_dependent_dags=True
    )
    assert ("grandchild", "wait") in keys(tis)


def test_a_templated_logical_date_is_rendered_with_the_markers_run():
    run = done(parent(logical_date="{{ (logical_date + macros.timedelta(days=1)).isoformat() }}"))
    child_model = child()
    done(child_model)  # same day: not the one
    next_day = done(child_model, when=WHEN + timedelta(days=1))
    tis = select_task_instances(
        "parent", run_ids=[run.run_id], task_ids=["mark_child"], include_dependent_dags=True
    )
    assert {ti.run_id for ti in tis if ti.dag_id == "child"} == {next_day.run_id}


def test_a_logical_date_that_is_not_a_date_is_refused_naming_the_marker():
    run = done(parent(logical_date="{{ ds }}-and-more"))
    done(child())
    with pytest.raises(InvalidSelection, match="ExternalTaskMarker mark_child: logical_date"):
        select_task_instances(
            "parent", run_ids=[run.run_id], task_ids=["mark_child"], include_dependent_dags=True
        )


def test_only_failed_narrows_the_dependent_tasks_too():
    run = done(parent())
    child_model = child()
    add_run(child_model, when=WHEN, states={"wait": "failed", "use": "upstream_failed"})
    from dagruns.models import TaskInstance

    TaskInstance.objects.filter(dag_id="parent").update(state="failed")
    tis = select_task_instances(
        "parent",
        run_ids=[run.run_id],
        task_ids=["mark_child"],
        include_dependent_dags=True,
        only_failed=True,
    )
    assert keys(tis) == {("parent", "mark_child"), ("child", "wait"), ("child", "use")}
