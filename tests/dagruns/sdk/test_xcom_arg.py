import pytest

from dagruns.sdk import DAG, AirflowException, BashOperator, EmptyOperator, PythonOperator, XComArg
from dagruns.sdk.xcom_arg import iter_xcom_args, push_return_value

from .conftest import FakeTI


def test_output_refers_to_the_return_value():
    task = EmptyOperator(task_id="t")
    assert task.output == XComArg(task, "return_value")
    assert task.output["rows"] == XComArg(task, "rows")


def test_resolve_pulls_through_the_task_instance():
    task = EmptyOperator(task_id="t")
    ti = FakeTI({("t", "return_value"): 1, ("t", "rows"): 2})
    assert task.output.resolve({"ti": ti}) == 1
    assert task.output["rows"].resolve({"ti": ti}) == 2


def test_resolve_without_a_task_instance_is_a_clear_error():
    with pytest.raises(AirflowException, match="no 'ti'"):
        EmptyOperator(task_id="t").output.resolve({})


def test_an_xcomarg_in_a_template_field_creates_the_upstream_edge():
    with DAG("d"):
        producer = EmptyOperator(task_id="producer")
        consumer = PythonOperator(
            task_id="consumer", python_callable=print, op_kwargs={"x": [producer.output]}
        )
    assert consumer.upstream_task_ids == {"producer"}


def test_assigning_an_xcomarg_to_a_template_field_later_also_creates_the_edge():
    with DAG("d"):
        producer = EmptyOperator(task_id="producer")
        consumer = BashOperator(task_id="consumer", bash_command="true")
        consumer.env = {"VALUE": producer.output}
    assert consumer.upstream_task_ids == {"producer"}


def test_xcomargs_take_part_in_dependency_operators():
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        a.output >> b
    assert b.upstream_task_ids == {"a"}


def test_str_is_a_jinja_pull_expression():
    with DAG("d"):
        task = EmptyOperator(task_id="t")
    assert (
        str(task.output)
        == "{{ task_instance.xcom_pull(task_ids='t', dag_id='d', key='return_value') }}"
    )


def test_an_xcomarg_is_not_iterable():
    with pytest.raises(TypeError):
        list(EmptyOperator(task_id="t").output)


def test_iter_xcom_args_looks_into_containers():
    a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
    value = {"x": [a.output, ("y", {b.output["k"]})], "z": 1}
    assert list(iter_xcom_args(value)) == [a.output, b.output["k"]]


def test_push_return_value_pushes_entries_for_multiple_outputs():
    task = EmptyOperator(task_id="t", multiple_outputs=True)
    ti = FakeTI()
    push_return_value(task, ti, {"a": 1, "b": 2})
    assert ti.pushed == [("a", 1), ("b", 2), ("return_value", {"a": 1, "b": 2})]


def test_push_return_value_rejects_a_non_dict_for_multiple_outputs():
    with pytest.raises(TypeError, match="multiple_outputs"):
        push_return_value(EmptyOperator(task_id="t", multiple_outputs=True), FakeTI(), [1])


def test_push_return_value_skips_none_and_disabled_push():
    ti = FakeTI()
    push_return_value(EmptyOperator(task_id="t"), ti, None)
    push_return_value(EmptyOperator(task_id="u", do_xcom_push=False), ti, 5)
    assert ti.pushed == []
