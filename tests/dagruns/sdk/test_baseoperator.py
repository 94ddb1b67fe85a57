from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    BaseOperator,
    BashOperator,
    DagDefinitionError,
    EmptyOperator,
    Param,
    TriggerRule,
    WeightRule,
)


def test_it_has_airflow_3_defaults():
    task = EmptyOperator(task_id="t")
    assert task.owner == "airflow"
    assert task.retries == 0
    assert task.retry_delay == timedelta(seconds=300)
    assert task.retry_exponential_backoff is False
    assert task.max_retry_delay is None
    assert task.execution_timeout is None
    assert task.trigger_rule == TriggerRule.ALL_SUCCESS
    assert task.depends_on_past is False
    assert task.pool == "default_pool"
    assert task.pool_slots == 1
    assert task.priority_weight == 1
    assert task.weight_rule == WeightRule.DOWNSTREAM
    assert task.queue == "default"
    assert task.executor is None  # the default executor: the first of ORCH_EXECUTOR
    assert task.executor_config == {}
    assert task.do_xcom_push is True
    assert task.is_setup is False and task.is_teardown is False


def test_it_rejects_an_unknown_trigger_rule_listing_the_valid_ones():
    with pytest.raises(DagDefinitionError) as error:
        EmptyOperator(task_id="t", trigger_rule="all_sucess")
    message = str(error.value)
    assert "'all_sucess'" in message
    assert "all_success" in message and "none_failed_min_one_success" in message


def test_it_rejects_an_unknown_weight_rule():
    with pytest.raises(DagDefinitionError, match="'heaviest'"):
        EmptyOperator(task_id="t", weight_rule="heaviest")


@pytest.mark.parametrize("task_id", ["has space", "x" * 251, "a/b"])
def test_it_rejects_a_bad_task_id(task_id):
    with pytest.raises(DagDefinitionError, match="task_id"):
        EmptyOperator(task_id=task_id)


def test_it_rejects_unknown_arguments_naming_them():
    with pytest.raises(DagDefinitionError, match="'retires'"):
        EmptyOperator(task_id="t", retires=3)


def test_it_requires_keyword_arguments():
    with pytest.raises(DagDefinitionError, match="keyword arguments"):
        BashOperator("t", "echo")


def test_it_reports_missing_required_arguments():
    with pytest.raises(DagDefinitionError, match="'bash_command'"):
        BashOperator(task_id="t")


def test_retry_delays_and_timeouts_accept_seconds():
    task = EmptyOperator(task_id="t", retry_delay=30, max_retry_delay=600.0, execution_timeout=5)
    assert task.retry_delay == timedelta(seconds=30)
    assert task.max_retry_delay == timedelta(minutes=10)
    assert task.execution_timeout == timedelta(seconds=5)


def test_retries_given_as_a_numeric_string_are_converted():
    assert EmptyOperator(task_id="t", retries="3").retries == 3
    with pytest.raises(DagDefinitionError, match="retries"):
        EmptyOperator(task_id="u", retries="many")
    with pytest.raises(DagDefinitionError, match="negative"):
        EmptyOperator(task_id="v", retries=-1)


def test_pool_slots_must_be_at_least_one():
    with pytest.raises(DagDefinitionError, match="pool_slots"):
        EmptyOperator(task_id="t", pool_slots=0)


def test_executor_names_the_executor_and_comes_from_default_args_too():
    with DAG("d", default_args={"executor": "celery"}):
        inherited = EmptyOperator(task_id="inherited")
        own = EmptyOperator(task_id="own", executor="local")
        reset = EmptyOperator(task_id="reset", default_args={"executor": None})
    assert inherited.executor == "celery"
    assert own.executor == "local"
    assert reset.executor is None


@pytest.mark.parametrize(
    ("airflow_name", "ours"),
    [
        ("CeleryExecutor", "celery"),
        ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", "celery"),
        ("LocalExecutor", "local"),
        (" local ", "local"),
        ("KubernetesExecutor", "KubernetesExecutor"),  # not ours: the processor names it
    ],
)
def test_airflows_executor_names_mean_ours(airflow_name, ours):
    assert EmptyOperator(task_id="t", executor=airflow_name).executor == ours


@pytest.mark.parametrize("executor", ["", "  ", 3, ["celery"]])
def test_executor_must_be_a_non_empty_name(executor):
    expected = r"Task 't' in DAG 'd': executor must be"
    with pytest.raises(DagDefinitionError, match=expected), DAG("d"):
        EmptyOperator(task_id="t", executor=executor)


def test_wait_for_downstream_implies_depends_on_past():
    assert EmptyOperator(task_id="t", wait_for_downstream=True).depends_on_past is True


def test_default_args_fill_arguments_the_task_did_not_set():
    args = {
        "owner": "data",
        "retries": 3,
        "queue": "fast",
        "bash_command": "echo default",
        "unknown": 1,
    }
    with DAG("d", default_args=args):
        plain = EmptyOperator(task_id="plain")
        bash = BashOperator(task_id="bash")
        explicit = EmptyOperator(task_id="explicit", retries=0)
    assert (plain.owner, plain.retries, plain.queue) == ("data", 3, "fast")
    assert bash.bash_command == "echo default"
    assert explicit.retries == 0


def test_operator_default_args_override_the_dags():
    with DAG("d", default_args={"retries": 1, "owner": "a"}):
        task = EmptyOperator(task_id="t", default_args={"retries": 5})
    assert (task.retries, task.owner) == (5, "a")


def test_task_params_merge_dag_default_args_and_own_params():
    with DAG("d", params={"a": 1, "b": Param(2, type="integer")}):
        task = EmptyOperator(
            task_id="t", params={"b": 3, "c": 4}, default_args={"params": {"d": 5}}
        )
    assert dict(task.params) == {"a": 1, "b": 3, "c": 4, "d": 5}
    assert task.params.get_param("b").schema == {"type": "integer"}


def test_a_task_runs_within_the_dags_date_range():
    with DAG("d", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 12, 31)):
        inherited = EmptyOperator(task_id="inherited")
        later = EmptyOperator(task_id="later", start_date=datetime(2024, 6, 1))
        earlier = EmptyOperator(
            task_id="earlier", start_date=datetime(2023, 1, 1), end_date=datetime(2025, 1, 1)
        )
    assert inherited.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert later.start_date == datetime(2024, 6, 1, tzinfo=UTC)
    assert earlier.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert earlier.end_date == datetime(2024, 12, 31, tzinfo=UTC)


def test_dag_argument_attaches_the_task_without_a_with_block():
    dag = DAG("explicit")
    task = EmptyOperator(task_id="t", dag=dag)
    assert task.dag is dag and dag.get_task("t") is task


def test_a_task_without_dag_has_none_until_linked():
    dag = DAG("later")
    loose = EmptyOperator(task_id="loose")
    assert not loose.has_dag()
    with pytest.raises(AirflowException, match="not been assigned"):
        loose.dag  # noqa: B018
    EmptyOperator(task_id="anchor", dag=dag) >> loose
    assert loose.dag is dag


def test_the_dag_of_a_task_cannot_change():
    task = EmptyOperator(task_id="t", dag=DAG("one"))
    with pytest.raises(DagDefinitionError, match="can not be changed"):
        task.dag = DAG("two")


def test_priority_weight_total_follows_the_weight_rule():
    with DAG("weights"):
        a = EmptyOperator(task_id="a", priority_weight=1)
        b = EmptyOperator(task_id="b", priority_weight=10)
        c = EmptyOperator(task_id="c", priority_weight=100)
        d = EmptyOperator(task_id="d", priority_weight=5, weight_rule="absolute")
        up = EmptyOperator(task_id="up", priority_weight=2, weight_rule="upstream")
        a >> b >> c >> up
        a >> d
    assert a.priority_weight_total == 1 + 10 + 100 + 5 + 2
    assert b.priority_weight_total == 10 + 100 + 2
    assert d.priority_weight_total == 5
    assert up.priority_weight_total == 2 + 1 + 10 + 100


def test_priority_weight_total_is_clamped_to_32_bits():
    with DAG("huge"):
        a = EmptyOperator(task_id="a", priority_weight=2**31)
    assert a.priority_weight_total == 2**31 - 1


def test_relatives_direct_and_flat():
    with DAG("rel"):
        a, b, c = (EmptyOperator(task_id=name) for name in "abc")
        a >> b >> c
    assert a.get_direct_relative_ids() == {"b"}
    assert a.get_flat_relative_ids() == {"b", "c"}
    assert c.get_flat_relative_ids(upstream=True) == {"a", "b"}
    assert [t.task_id for t in b.upstream_list] == ["a"]


def test_as_teardown_wires_setups_and_sets_the_trigger_rule():
    with DAG("st"):
        create = EmptyOperator(task_id="create")
        work = EmptyOperator(task_id="work")
        delete = EmptyOperator(task_id="delete").as_teardown(setups=create)
        create >> work >> delete
    assert create.is_setup
    assert delete.is_teardown
    assert delete.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS
    assert "create" in delete.upstream_task_ids


def test_a_task_cannot_be_both_setup_and_teardown():
    task = EmptyOperator(task_id="t").as_setup()
    with pytest.raises(DagDefinitionError, match="already a setup"):
        task.is_teardown = True


def test_is_setup_and_is_teardown_are_accepted_as_arguments():
    assert EmptyOperator(task_id="s", is_setup=True).is_setup


def test_callbacks_are_stored_and_flagged():
    def notify(context):
        return None

    task = EmptyOperator(task_id="t", on_failure_callback=notify, on_retry_callback=[notify])
    assert task.has_on_failure_callback and task.has_on_retry_callback
    assert not task.has_on_success_callback and not task.has_on_execute_callback


def test_a_subclass_must_have_its_declared_template_fields():
    class Broken(BaseOperator):
        template_fields = ("sql",)

    with pytest.raises(DagDefinitionError, match="'sql'"):
        Broken(task_id="t")


def test_a_single_template_field_written_as_a_string_is_normalised():
    class Single(BaseOperator):
        template_fields = "sql"

        def __init__(self, *, sql, **kwargs):
            super().__init__(**kwargs)
            self.sql = sql

    assert Single.template_fields == ("sql",)
    assert Single(task_id="t", sql="x").sql == "x"


def test_base_execute_must_be_overridden():
    with pytest.raises(NotImplementedError):
        BaseOperator(task_id="t").execute({})


def test_repr_and_task_type():
    task = EmptyOperator(task_id="t")
    assert repr(task) == "<Task(EmptyOperator): t>"
    assert task.task_type == "EmptyOperator"
    assert task.operator_module == "dagruns.sdk.operators.empty"


def test_assigning_a_bad_trigger_rule_later_is_rejected_too():
    task = EmptyOperator(task_id="t")
    task.trigger_rule = "one_done"
    assert task.trigger_rule == TriggerRule.ONE_DONE
    with pytest.raises(DagDefinitionError, match="'sometimes'"):
        task.trigger_rule = "sometimes"


@pytest.mark.parametrize("hook", ["pre_execute", "post_execute"])
def test_execute_hooks_must_be_callables(hook):
    with pytest.raises(DagDefinitionError, match=f"{hook} must be a callable"):
        EmptyOperator(task_id="t", **{hook: "not callable"})
    assert EmptyOperator(task_id="t", **{hook: print}).__dict__[f"_{hook}_hook"] is print
