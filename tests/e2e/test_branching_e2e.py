"""Branching and short-circuit, run for real."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_branch_runs_the_chosen_path_skips_the_others_and_the_join_runs(engine):
    engine.add(
        "branch.py",
        """
        with DAG("branch", schedule=None, start_date=START) as dag:
            @task.branch
            def choose():
                return "path_b"

            a = EmptyOperator(task_id="path_a")
            b = PythonOperator(task_id="path_b", python_callable=lambda: 1)
            after_a = EmptyOperator(task_id="after_a")
            join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
            strict_join = EmptyOperator(task_id="strict_join")
            choose() >> [a, b]
            a >> after_a
            [after_a, b] >> join
            [after_a, b] >> strict_join
        """,
    )
    engine.parse()
    run = engine.run_dag("branch")
    assert engine.states(run) == {
        "choose": "success",
        "path_a": "skipped",
        "after_a": "skipped",  # skips propagate through all_success
        "path_b": "success",
        "join": "success",
        "strict_join": "skipped",  # the classic gotcha: all_success after a branch
    }
    assert run.state == "success"


def test_a_branch_may_choose_several_paths(engine):
    engine.add(
        "multi.py",
        """
        with DAG("multi", schedule=None, start_date=START) as dag:
            pick = BranchPythonOperator(task_id="pick", python_callable=lambda: ["x", "y"])
            pick >> [EmptyOperator(task_id="x"), EmptyOperator(task_id="y"), EmptyOperator(task_id="z")]
        """,
    )
    engine.parse()
    run = engine.run_dag("multi")
    assert engine.states(run) == {"pick": "success", "x": "success", "y": "success", "z": "skipped"}


def test_a_falsy_short_circuit_skips_everything_downstream(engine):
    engine.add(
        "sc.py",
        """
        with DAG("sc", schedule=None, start_date=START) as dag:
            gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: 0)
            one = EmptyOperator(task_id="one")
            two = EmptyOperator(task_id="two", trigger_rule=TriggerRule.ALL_DONE)
            gate >> one >> two
        """,
    )
    engine.parse()
    run = engine.run_dag("sc")
    assert engine.states(run) == {"gate": "success", "one": "skipped", "two": "skipped"}


def test_a_short_circuit_that_respects_trigger_rules_skips_only_direct_downstream(engine):
    engine.add(
        "sc2.py",
        """
        with DAG("sc2", schedule=None, start_date=START) as dag:
            gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: False,
                                        ignore_downstream_trigger_rules=False)
            one = EmptyOperator(task_id="one")
            two = EmptyOperator(task_id="two", trigger_rule=TriggerRule.ALL_DONE)
            gate >> one >> two
        """,
    )
    engine.parse()
    run = engine.run_dag("sc2")
    assert engine.states(run) == {"gate": "success", "one": "skipped", "two": "success"}


def test_a_truthy_short_circuit_lets_everything_run(engine):
    engine.add(
        "sc3.py",
        """
        with DAG("sc3", schedule=None, start_date=START) as dag:
            @task.short_circuit
            def gate():
                return {"go": True}

            gate() >> EmptyOperator(task_id="one")
        """,
    )
    engine.parse()
    run = engine.run_dag("sc3")
    assert engine.states(run) == {"gate": "success", "one": "success"}
