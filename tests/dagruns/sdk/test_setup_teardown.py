"""Setup/teardown on TaskFlow results and as context managers (Airflow 3's spelling)."""

from __future__ import annotations

import pytest

from dagruns.sdk import DAG, DagDefinitionError, EmptyOperator, setup, task, teardown


def edges(dag):
    return sorted((t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids)


@task
def create():
    return 1


@task
def work():
    return 2


@task
def delete():
    return 3


def test_as_teardown_on_a_taskflow_result_marks_both_roles_and_links_the_setup():
    with DAG("d") as dag:
        made = create()
        made >> work() >> delete().as_teardown(setups=made)
    assert dag.get_task("create").is_setup
    assert dag.get_task("delete").is_teardown
    assert dag.get_task("delete").trigger_rule == "all_done_setup_success"
    assert edges(dag) == [("create", "delete"), ("create", "work"), ("work", "delete")]


def test_the_context_manager_puts_the_setup_before_and_the_teardown_after_the_work():
    with DAG("d") as dag, delete().as_teardown(setups=create()):
        first = work()
        second = work()
        first >> second
        EmptyOperator(task_id="alone")
    assert edges(dag) == [
        ("alone", "delete"),
        ("create", "alone"),
        ("create", "delete"),
        ("create", "work"),
        ("work", "work__1"),
        ("work__1", "delete"),
    ]


def test_a_setup_alone_and_the_decorators_work_as_context_managers_too():
    @setup
    def prepare():
        return 1

    @teardown
    def clean():
        return 2

    with DAG("d") as dag:
        with prepare():
            work()
        with clean():  # a teardown without setups still follows the work
            EmptyOperator(task_id="later")
    assert edges(dag) == [("later", "clean"), ("prepare", "work")]


def test_nested_blocks_chain_the_setups_and_the_teardowns():
    with DAG("d") as dag:
        outer = delete.override(task_id="outer_delete")().as_teardown(
            setups=create.override(task_id="outer_create")()
        )
        with outer:
            inner = delete().as_teardown(setups=create())
            with inner:
                work()
    assert edges(dag) == [
        ("create", "delete"),
        ("create", "work"),
        ("delete", "outer_delete"),
        ("outer_create", "create"),
        ("outer_create", "outer_delete"),
        ("work", "delete"),
    ]


def test_a_task_linked_inside_the_block_joins_its_work_as_airflows_rshift_does():
    with DAG("d") as dag:
        before = EmptyOperator(task_id="before")
        with delete().as_teardown(setups=create()):
            inside = EmptyOperator(task_id="inside")
            before >> inside
            EmptyOperator(task_id="free")
    assert edges(dag) == [
        ("before", "inside"),
        ("create", "before"),
        ("create", "delete"),
        ("create", "free"),
        ("free", "delete"),
        ("inside", "delete"),
    ]


def test_a_plain_task_is_not_a_context_manager():
    with DAG("d"), pytest.raises(DagDefinitionError, match="Only setup/teardown tasks"), work():
        pass
