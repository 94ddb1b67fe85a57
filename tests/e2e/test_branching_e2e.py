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


def test_custom_skip_mixin_operators_skip_as_in_airflow(engine):
    engine.add(
        "skipmixin.py",
        """
        from airflow.exceptions import DownstreamTasksSkipped
        from airflow.sdk import BaseOperator
        from airflow.sdk.bases.skipmixin import SkipMixin

        class FollowLeft(BaseOperator, SkipMixin):
            def execute(self, context):
                self.skip_all_except(context["ti"], "left")

        class SkipFirst(BaseOperator):
            def execute(self, context):
                raise DownstreamTasksSkipped(tasks=["first"])

        with DAG("skipmixin", schedule=None, start_date=START) as dag:
            pick = FollowLeft(task_id="pick")
            left, right, join = (EmptyOperator(task_id=t) for t in ("left", "right", "join"))
            pick >> [left, right, join]
            left >> join  # the join below the followed branch is followed too
            right >> EmptyOperator(task_id="after_right")

            gate = SkipFirst(task_id="gate")
            gate >> EmptyOperator(task_id="first") >> EmptyOperator(task_id="second")
            gate >> EmptyOperator(task_id="other")
        """,
    )
    engine.parse()
    run = engine.run_dag("skipmixin")
    assert engine.states(run) == {
        "pick": "success",
        "left": "success",
        "right": "skipped",
        "after_right": "skipped",  # all_success below a skipped task
        "join": "success",
        "gate": "success",
        "first": "skipped",
        "second": "skipped",
        "other": "success",
    }
    assert run.state == "success"


def test_a_skip_mixin_in_a_mapped_group_skips_its_own_map_index_only(engine):
    engine.add(
        "skipmixin_mapped.py",
        """
        from airflow.sdk import BaseOperator, task_group
        from airflow.sdk.bases.skipmixin import SkipMixin

        class Follow(BaseOperator, SkipMixin):
            def execute(self, context):
                first = context["ti"].map_index == 0
                self.skip_all_except(context["ti"], "grp.a" if first else "grp.b")

        with DAG("skipmixin_mapped", schedule=None, start_date=START) as dag:
            @task
            def nums():
                return [1, 2]

            @task_group
            def grp(v):
                @task
                def inner(x):
                    return x

                inner(v) >> Follow(task_id="f") >> [
                    EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
                ]

            grp.expand(v=nums()) >> EmptyOperator(task_id="after")
        """,
    )
    engine.parse()
    run = engine.run_dag("skipmixin_mapped")
    rows = run.task_instances.filter(task_id__in=["grp.a", "grp.b", "after"])
    # Airflow: NotPreviouslySkippedDep skips the same map index of the group's tasks only.
    assert set(rows.values_list("task_id", "map_index", "state")) == {
        ("grp.a", 0, "success"),
        ("grp.b", 0, "skipped"),
        ("grp.a", 1, "skipped"),
        ("grp.b", 1, "success"),
        ("after", -1, "skipped"),  # all_success over a group with skipped instances
    }
