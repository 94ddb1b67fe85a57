"""Setup and teardown tasks run for real, with Airflow's run-state rule: a teardown's result
does not decide the run unless on_failure_fail_dagrun=True; the work it tears down does."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.task_instances import do_clear, select_task_instances
from dagruns.models import DagModel

pytestmark = pytest.mark.django_db(transaction=True)

TASKS = """
from dagruns.sdk import setup, task_group, teardown

@task
def create_cluster():
    return "cluster-1"

@task
def run_query(cluster):
    return f"ran on {cluster}"

@task
def failing_query(cluster):
    raise RuntimeError("the query failed")

@task
def delete_cluster():
    return "deleted"

@task
def failing_delete():
    raise RuntimeError("the cluster would not go")
"""


def _add(engine, name: str, body: str) -> None:
    import textwrap

    engine.add(name, TASKS + textwrap.dedent(body))


def test_failed_work_fails_the_run_even_though_its_teardown_succeeded(engine):
    _add(
        engine,
        "work_fails.py",
        """
        with DAG("work_fails", schedule=None, start_date=START) as dag:
            create = create_cluster()
            create >> failing_query(create) >> delete_cluster().as_teardown(setups=create)
        """,
    )
    engine.parse()
    run = engine.run_dag("work_fails")
    assert engine.states(run) == {
        "create_cluster": "success",
        "failing_query": "failed",
        "delete_cluster": "success",  # teardowns run whatever happened to the work
    }
    assert run.state == "failed"


def test_a_failed_teardown_does_not_fail_the_run_by_default(engine):
    _add(
        engine,
        "teardown_fails.py",
        """
        with DAG("teardown_fails", schedule=None, start_date=START) as dag:
            create = create_cluster()
            create >> run_query(create) >> failing_delete().as_teardown(setups=create)
        """,
    )
    engine.parse()
    run = engine.run_dag("teardown_fails")
    assert engine.states(run) == {
        "create_cluster": "success",
        "run_query": "success",
        "failing_delete": "failed",
    }
    assert run.state == "success"


def test_a_failed_teardown_with_on_failure_fail_dagrun_fails_the_run(engine):
    _add(
        engine,
        "strict_teardown.py",
        """
        with DAG("strict_teardown", schedule=None, start_date=START) as dag:
            create = create_cluster()
            cleanup = failing_delete().as_teardown(setups=create, on_failure_fail_dagrun=True)
            create >> run_query(create) >> cleanup
        """,
    )
    engine.parse()
    run = engine.run_dag("strict_teardown")
    assert engine.states(run)["failing_delete"] == "failed"
    assert run.state == "failed"


def test_the_context_manager_wraps_the_work_created_inside_it(engine):
    _add(
        engine,
        "context.py",
        """
        with DAG("context", schedule=None, start_date=START) as dag:
            @setup
            def make_bucket():
                return "bucket"

            @teardown
            def drop_bucket():
                return "dropped"

            with drop_bucket().as_teardown(setups=make_bucket()):
                first = run_query.override(task_id="first")("a")
                second = failing_query.override(task_id="second")("b")
                first >> second
        """,
    )
    engine.parse()
    version = DagModel.objects.get(dag_id="context").latest_version()
    assert version.serialized["edges"] == [
        ["first", "second"],
        ["make_bucket", "drop_bucket"],
        ["make_bucket", "first"],
        ["second", "drop_bucket"],
    ]
    run = engine.run_dag("context")
    assert engine.states(run) == {
        "make_bucket": "success",
        "first": "success",
        "second": "failed",
        "drop_bucket": "success",
    }
    assert run.state == "failed"


def test_clearing_the_work_clears_its_setup_and_teardown_too(engine):
    _add(
        engine,
        "clear.py",
        """
        with DAG("clear", schedule=None, start_date=START) as dag:
            create = create_cluster()
            work = run_query(create)
            create >> work >> delete_cluster().as_teardown(setups=create)
            work >> EmptyOperator(task_id="report")
        """,
    )
    engine.parse()
    run = engine.run_dag("clear")
    assert run.state == "success"
    tis = select_task_instances("clear", run_ids=[run.run_id], task_ids=["run_query"])
    assert sorted(ti.task_id for ti in tis) == ["create_cluster", "delete_cluster", "run_query"]
    do_clear(tis, Actor(name="e2e"))
    run.refresh_from_db()
    engine.run(run)
    run.refresh_from_db()
    assert run.state == "success"
    tries = dict(engine.states(run))
    assert tries == dict.fromkeys(
        ["create_cluster", "run_query", "delete_cluster", "report"], "success"
    )
    assert engine.ti(run, "create_cluster").try_number == 2
    assert engine.ti(run, "report").try_number == 1


def test_airflows_setup_teardown_taskflow_example_runs_with_its_edges(engine):
    """Airflow's example_setup_teardown_taskflow DAG (its outer block and task group)."""
    _add(
        engine,
        "example_st.py",
        """
        with DAG("example_st", schedule=None, start_date=START) as dag:
            @task
            def my_first_task():
                print("Hello 1")

            @task
            def my_second_task():
                print("Hello 2")

            @task
            def my_third_task():
                print("Hello 3")

            task_1 = my_first_task()
            task_2 = my_second_task()
            task_3 = my_third_task()
            task_1 >> task_2 >> task_3.as_teardown(setups=task_1)

            @setup
            def outer_setup():
                return "some cluster id"

            @teardown
            def outer_teardown(cluster_id):
                print(f"Tearing down cluster: {cluster_id}")

            @task
            def outer_work():
                print("I am just a normal task")

            @task_group
            def section_1():
                @setup
                def inner_setup():
                    return "some_cluster_id"

                @task
                def inner_work(cluster_id):
                    print(f"doing some work with {cluster_id=}")

                @teardown
                def inner_teardown(cluster_id):
                    print(f"tearing down {cluster_id=}")

                inner_setup_task = inner_setup()
                inner_work(inner_setup_task) >> inner_teardown(inner_setup_task)

            with outer_teardown(outer_setup()):
                outer_work()
                section_1()
        """,
    )
    engine.parse()
    edges = DagModel.objects.get(dag_id="example_st").latest_version().serialized["edges"]
    # As Airflow wires it: the block's work without upstream/downstream (outer_work) goes
    # between the outer setup and teardown; the group's tasks already have theirs.
    assert edges == [
        ["my_first_task", "my_second_task"],
        ["my_first_task", "my_third_task"],
        ["my_second_task", "my_third_task"],
        ["outer_setup", "outer_teardown"],
        ["outer_setup", "outer_work"],
        ["outer_work", "outer_teardown"],
        ["section_1.inner_setup", "section_1.inner_teardown"],
        ["section_1.inner_setup", "section_1.inner_work"],
        ["section_1.inner_work", "section_1.inner_teardown"],
    ]
    run = engine.run_dag("example_st")
    assert set(engine.states(run).values()) == {"success"} and len(engine.states(run)) == 9
    assert run.state == "success"
