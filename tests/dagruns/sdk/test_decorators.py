from typing import TypedDict

import pytest

from dagruns.sdk import (
    DAG,
    DagDefinitionError,
    EmptyOperator,
    PythonOperator,
    TriggerRule,
    XComArg,
    setup,
    task,
    teardown,
)
from dagruns.sdk.decorators import (
    _BashDecoratedOperator,
    _BranchPythonDecoratedOperator,
    _PythonDecoratedOperator,
    _ShortCircuitDecoratedOperator,
)

from .conftest import FakeTI


def test_calling_a_task_creates_a_python_operator_and_returns_its_xcomarg():
    @task
    def extract():
        """Pulls data."""
        return 1

    with DAG("d") as dag:
        result = extract()
    operator = dag.get_task("extract")
    assert isinstance(result, XComArg) and result.operator is operator
    assert isinstance(operator, _PythonDecoratedOperator)
    assert isinstance(operator, PythonOperator)
    assert operator.custom_operator_name == "@task"
    assert operator.doc_md == "Pulls data."


def test_passing_an_xcomarg_creates_the_edge_and_pulls_at_run_time():
    @task
    def extract():
        return {"rows": 3}

    @task
    def load(rows, factor=1):
        return rows * factor

    with DAG("d") as dag:
        data = extract()
        load(data["rows"], factor=data)
    loader = dag.get_task("load")
    assert loader.upstream_task_ids == {"extract"}
    ti = FakeTI({("extract", "rows"): 3, ("extract", "return_value"): 2})
    assert loader.execute({"ti": ti}) == 6


def test_repeated_calls_get_numbered_task_ids():
    @task
    def step():
        return None

    with DAG("d") as dag:
        step()
        step()
        step.override(task_id="step__1")()
        step()
    assert dag.task_ids == ["step", "step__1", "step__2", "step__3"]


def test_repeated_calls_inside_a_group_are_numbered_within_the_group():
    from dagruns.sdk import TaskGroup

    @task
    def step():
        return None

    with DAG("d") as dag, TaskGroup("g"):
        step()
        step()
    assert dag.task_ids == ["g.step", "g.step__1"]


def test_decorator_arguments_and_override():
    @task(task_id="custom", retries=3, queue="q")
    def work():
        return None

    with DAG("d") as dag:
        work()
        work.override(retries=5, task_id="other")()
    assert (dag.get_task("custom").retries, dag.get_task("custom").queue) == (3, "q")
    assert (dag.get_task("other").retries, dag.get_task("other").queue) == (5, "q")


def test_multiple_outputs_is_inferred_from_a_mapping_return_annotation():
    class Result(TypedDict):
        a: int

    @task
    def typed() -> dict[str, int]:
        return {}

    @task
    def typed_dict() -> Result:
        return {"a": 1}

    @task
    def plain() -> list[int]:
        return []

    @task(multiple_outputs=True)
    def forced():
        return {}

    with DAG("d") as dag:
        typed()
        typed_dict()
        plain()
        forced()
    assert [dag.get_task(t).multiple_outputs for t in dag.task_ids] == [True, True, False, True]


def test_a_call_that_does_not_match_the_signature_fails_at_definition():
    @task
    def needs(a, b):
        return a + b

    with (
        DAG("d"),
        pytest.raises(DagDefinitionError, match="needs.*missing a required argument: 'b'"),
    ):
        needs(1)


def test_context_parameters_count_as_supplied_and_receive_the_context():
    @task
    def uses_context(x, ti=None, ds=None):
        return (x, ti, ds)

    with DAG("d") as dag:
        uses_context(1)
    ti = FakeTI()
    assert dag.get_task("uses_context").execute({"ti": ti, "ds": "2024-01-01", "run_id": "r"}) == (
        1,
        ti,
        "2024-01-01",
    )


def test_a_context_parameter_default_other_than_none_is_rejected():
    @task
    def bad(ds="today"):
        return ds

    with DAG("d"), pytest.raises(DagDefinitionError, match="'ds'"):
        bad()


def test_task_bash_runs_the_returned_command():
    @task.bash(env={"WHO": "ada"}, append_env=True)
    def greet(greeting):
        return f'echo "{greeting} $WHO {{{{ ds }}}}"'

    with DAG("d") as dag:
        greet("hi")
    operator = dag.get_task("greet")
    assert isinstance(operator, _BashDecoratedOperator)
    assert operator.custom_operator_name == "@task.bash"
    assert operator.execute({"ds": "2024-01-01"}) == "hi ada 2024-01-01"


def test_task_bash_rejects_an_empty_command():
    @task.bash
    def nothing():
        return "  "

    with DAG("d") as dag:
        nothing()
    with pytest.raises(TypeError, match="non-empty string"):
        dag.get_task("nothing").execute({})


def test_task_branch_and_short_circuit_variants():
    @task.branch
    def choose():
        return "left"

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def check():
        return False

    with DAG("d") as dag:
        choose() >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
        check()
    brancher, checker = dag.get_task("choose"), dag.get_task("check")
    assert isinstance(brancher, _BranchPythonDecoratedOperator) and brancher.is_branch
    assert brancher.execute({"ti": FakeTI()}) == "left"
    assert isinstance(checker, _ShortCircuitDecoratedOperator) and checker.is_short_circuit
    assert checker.ignore_downstream_trigger_rules is False
    assert checker.execute({}) is False


def test_task_python_is_the_same_as_task():
    @task.python(retries=2)
    def work():
        return 7

    with DAG("d") as dag:
        work()
    assert dag.get_task("work").retries == 2
    assert dag.get_task("work").execute({}) == 7


def test_setup_and_teardown_decorators():
    @setup
    def create():
        return "cluster"

    @teardown(on_failure_fail_dagrun=True)
    @task
    def delete(name):
        return name

    with DAG("d") as dag:
        delete(create())
    created, deleted = dag.get_task("create"), dag.get_task("delete")
    assert created.is_setup and not created.is_teardown
    assert deleted.is_teardown and deleted.on_failure_fail_dagrun
    assert deleted.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS
    assert deleted.upstream_task_ids == {"create"}


def test_a_task_called_outside_a_dag_has_no_dag():
    @task
    def loose():
        return 1

    result = loose()
    assert not result.operator.has_dag()
    assert result.operator.execute({}) == 1
