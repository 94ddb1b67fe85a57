import pytest

from dagruns.sdk import DAG, DagDefinitionError, EmptyOperator, PythonOperator
from dagruns.sdk.operators.python import determine_kwargs

from ..conftest import FakeTI


def test_it_calls_the_function_with_op_args_and_op_kwargs():
    task = PythonOperator(
        task_id="t", python_callable=lambda a, b=0: a + b, op_args=[1], op_kwargs={"b": 2}
    )
    assert task.execute({}) == 3


def test_it_passes_only_the_context_keys_the_function_names():
    def needs(ds, ti):
        return ds, ti

    ti = FakeTI()
    task = PythonOperator(task_id="t", python_callable=needs)
    assert task.execute({"ds": "2024-01-01", "ti": ti, "run_id": "r"}) == ("2024-01-01", ti)


def test_a_function_with_kwargs_gets_the_whole_context_and_op_kwargs():
    def everything(**kwargs):
        return kwargs

    task = PythonOperator(
        task_id="t", python_callable=everything, op_kwargs={"x": 1}, templates_dict={"q": "v"}
    )
    received = task.execute({"ds": "d", "run_id": "r"})
    assert received == {"ds": "d", "run_id": "r", "x": 1, "templates_dict": {"q": "v"}}


def test_op_kwargs_override_context_keys():
    task = PythonOperator(task_id="t", python_callable=lambda ds: ds, op_kwargs={"ds": "mine"})
    assert task.execute({"ds": "context"}) == "mine"


def test_a_positional_argument_may_not_shadow_a_context_key():
    with pytest.raises(ValueError, match="'ds'"):
        determine_kwargs(lambda ds: ds, ["x"], {"ds": "d"})


def test_xcomargs_are_pulled_when_executing_unrendered():
    with DAG("d"):
        producer = EmptyOperator(task_id="p")
        task = PythonOperator(
            task_id="t",
            python_callable=lambda v, w: (v, w),
            op_args=[producer.output],
            op_kwargs={"w": [producer.output]},
        )
    assert task.execute({"ti": FakeTI({("p", "return_value"): 9})}) == (9, [9])


def test_templated_fields_render_before_execution():
    task = PythonOperator(task_id="t", python_callable=lambda x: x, op_kwargs={"x": "{{ ds }}"})
    task.render_template_fields({"ds": "2024-01-01"})
    assert task.execute({"ds": "2024-01-01"}) == "2024-01-01"


def test_it_requires_a_callable():
    with pytest.raises(DagDefinitionError, match="callable"):
        PythonOperator(task_id="t", python_callable="not callable")


def test_templates_exts_makes_templates_dict_values_file_names():
    task = PythonOperator(task_id="t", python_callable=print, templates_exts=[".sql"])
    assert task.template_ext == (".sql",)


def test_an_async_callable_is_awaited_and_its_result_returned():
    # Airflow 3.2+ runs `async def` callables natively (its example_python_operator does).
    async def sleepy(base, ds):
        import asyncio

        await asyncio.sleep(0)
        return f"{ds}:{base * 2}"

    task = PythonOperator(task_id="t", python_callable=sleepy, op_kwargs={"base": 21})
    assert task.execute({"ds": "2024-01-01"}) == "2024-01-01:42"


def test_an_async_task_function_is_awaited():
    from dagruns.sdk import task

    @task
    async def double(x):
        return x * 2

    with DAG("d"):
        op = double(4).operator
    assert op.execute({}) == 8
