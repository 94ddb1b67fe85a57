from collections import namedtuple
from datetime import UTC, date, datetime

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from dagruns.sdk import DAG, BashOperator, EmptyOperator, PythonOperator, TemplateRenderError
from dagruns.sdk.templating import create_template_env, render_template

from .conftest import FakeTI

MOMENT = datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC)


def test_the_environment_is_sandboxed_and_strict():
    env = create_template_env()
    assert isinstance(env, SandboxedEnvironment)
    with pytest.raises(jinja2.UndefinedError, match="'missing' is undefined"):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x=1)


def test_airflow_date_filters():
    env = create_template_env()
    rendered = env.from_string(
        "{{ d | ds }} {{ d | ds_nodash }} {{ d | ts }} {{ d | ts_nodash }} {{ d | ts_nodash_with_tz }}"
    ).render(d=MOMENT)
    assert (
        rendered
        == "2024-03-05 20240305 2024-03-05T06:07:08+00:00 20240305T060708 20240305T060708+0000"
    )
    assert env.from_string("{{ d | ds }}").render(d=date(2024, 1, 2)) == "2024-01-02"


def test_macros_are_available():
    env = create_template_env()
    assert env.from_string("{{ macros.ds_add('2024-01-30', 2) }}").render() == "2024-02-01"
    assert env.from_string("{{ macros.timedelta(days=1).days }}").render() == "1"


def test_native_environment_renders_python_objects():
    env = create_template_env(native=True)
    assert env.from_string("{{ [1, 2] + extra }}").render(extra=[3]) == [1, 2, 3]
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ x.__class__ }}").render(x=1)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_render_template_recurses_into_containers():
    Pair = namedtuple("Pair", "left right")
    env = create_template_env()
    content = {"a": ["{{ x }}", ("{{ x }}!",)], "b": {"{{ x }}"}, "c": Pair("{{ x }}", 1), "d": 5}
    assert render_template(content, {"x": "v"}, env) == {
        "a": ["v", ("v!",)],
        "b": {"v"},
        "c": Pair("v", 1),
        "d": 5,
    }


def test_render_template_resolves_xcomargs():
    producer = EmptyOperator(task_id="p")
    ti = FakeTI({("p", "return_value"): 42})
    assert render_template([producer.output], {"ti": ti}, create_template_env()) == [42]


def test_render_template_renders_nested_templated_objects():
    class Nested:
        template_fields = ("sql",)

        def __init__(self):
            self.sql = "select {{ n }}"

    nested = Nested()
    render_template([nested], {"n": 1}, create_template_env())
    assert nested.sql == "select 1"


def test_render_template_fields_renders_in_place_with_the_context():
    task = BashOperator(task_id="t", bash_command="echo {{ ds }}", env={"DAY": "{{ ds_nodash }}"})
    task.render_template_fields({"ds": "2024-03-05", "ds_nodash": "20240305"})
    assert task.bash_command == "echo 2024-03-05"
    assert task.env == {"DAY": "20240305"}


def test_a_field_ending_in_a_template_extension_is_read_from_the_dag_folder(tmp_path):
    (tmp_path / "script.sh").write_text("echo {{ params.who }}")
    with DAG("d", fileloc=str(tmp_path / "d.py")):
        task = BashOperator(task_id="t", bash_command="script.sh")
    task.render_template_fields({"params": {"who": "ada"}})
    assert task.bash_command == "echo ada"


def test_a_render_error_names_the_task_and_the_field():
    task = PythonOperator(task_id="my_task", python_callable=print, op_kwargs={"x": "{{ nope }}"})
    with pytest.raises(TemplateRenderError) as error:
        task.render_template_fields({})
    message = str(error.value)
    assert "'my_task'" in message and "'op_kwargs'" in message and "'nope' is undefined" in message
    assert isinstance(error.value.__cause__, jinja2.UndefinedError)


def test_a_missing_template_file_names_the_task_and_the_field(tmp_path):
    with DAG("d", fileloc=str(tmp_path / "d.py")):
        task = BashOperator(task_id="t", bash_command="missing.sh")
    with pytest.raises(TemplateRenderError, match="'bash_command'.*missing.sh"):
        task.render_template_fields({})


def test_dag_native_rendering():
    with DAG("d", render_template_as_native_obj=True):
        task = PythonOperator(task_id="t", python_callable=print, op_args=["{{ [1, 2] }}"])
    task.render_template_fields({})
    assert task.op_args == [[1, 2]]


def test_a_literal_value_is_left_unrendered():
    from dagruns.sdk import BashOperator, literal

    with DAG("lit", schedule=None, start_date=datetime(2024, 1, 1)):
        task = BashOperator(task_id="t", bash_command=literal("echo '{{ not a template }}'"))
    task.render_template_fields({"ds": "2024-01-01"})
    assert task.bash_command == "echo '{{ not a template }}'"
