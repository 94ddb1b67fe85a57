"""The flow the DAG processor runs on each file: import it inside capture_dags(),
collect its DAGs, validate them, serialize them; bad files fail with a clear error."""

import importlib.util
import json
import textwrap
import traceback

import pytest

from dagruns.sdk import (
    AirflowDagCycleException,
    DagDefinitionError,
    DuplicateTaskIdFound,
    capture_dags,
    collect_dags,
    deserialize_dag,
    serialize_dag,
)

TUTORIAL = '''
import textwrap
from datetime import datetime, timedelta

from dagruns.sdk import DAG, BashOperator

with DAG(
    "tutorial",
    default_args={
        "depends_on_past": False,
        "email": ["airflow@example.com"],
        "email_on_failure": False,
        "email_on_retry": False,
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
    },
    description="A simple tutorial DAG",
    schedule=timedelta(days=1),
    start_date=datetime(2021, 1, 1),
    catchup=False,
    tags=["example"],
) as dag:
    t1 = BashOperator(task_id="print_date", bash_command="date")
    t2 = BashOperator(task_id="sleep", depends_on_past=False, bash_command="sleep 5", retries=3)
    t1.doc_md = textwrap.dedent("""#### Task Documentation""")
    dag.doc_md = __doc__
    templated_command = textwrap.dedent(
        """
    {% for i in range(5) %}
        echo "{{ ds }}"
        echo "{{ macros.ds_add(ds, 7)}}"
    {% endfor %}
    """
    )
    t3 = BashOperator(task_id="templated", depends_on_past=False, bash_command=templated_command)
    t1 >> [t2, t3]
'''

TASKFLOW = """
from datetime import datetime

from dagruns.sdk import dag, task


@dag(schedule=None, start_date=datetime(2021, 1, 1), catchup=False, tags=["example"])
def tutorial_taskflow_api():
    @task()
    def extract():
        return {"1001": 301.27, "1002": 433.21, "1003": 502.22}

    @task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        return {"total_order_value": sum(order_data_dict.values())}

    @task()
    def load(total_order_value: float):
        print(f"Total order value is: {total_order_value:.2f}")

    order_data = extract()
    order_summary = transform(order_data)
    load(order_summary["total_order_value"])


tutorial_taskflow_api()
"""


def process(path):
    """What the processor does with one file."""
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    with capture_dags() as registered:
        spec.loader.exec_module(module)
    dags = collect_dags(vars(module), registered)
    for found in dags:
        found.validate()
    return dags


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_the_airflow_tutorial_dag_file_carries_over(tmp_path):
    (found,) = process(write(tmp_path, "tutorial.py", TUTORIAL))
    assert found.dag_id == "tutorial"
    assert found.fileloc == str(tmp_path / "tutorial.py")
    data = serialize_dag(found)
    json.dumps(data)
    assert [t["task_id"] for t in data["tasks"]] == ["print_date", "sleep", "templated"]
    assert data["tasks"][1]["retries"] == 3 and data["tasks"][0]["retries"] == 1
    assert data["tasks"][0]["email"] == ["airflow@example.com"]
    assert serialize_dag(deserialize_dag(data)) == data
    templated = found.get_task("templated")
    templated.render_template_fields({"ds": "2024-01-01"})
    assert "2024-01-08" in templated.bash_command


def test_the_airflow_taskflow_tutorial_carries_over(tmp_path):
    (found,) = process(write(tmp_path, "taskflow.py", TASKFLOW))
    assert found.dag_id == "tutorial_taskflow_api"
    assert sorted((t.task_id, sorted(t.upstream_task_ids)) for t in found.tasks) == [
        ("extract", []),
        ("load", ["transform"]),
        ("transform", ["extract"]),
    ]
    assert found.get_task("transform").multiple_outputs is True


def test_a_duplicate_task_id_points_at_the_authors_line(tmp_path):
    source = """
        from dagruns.sdk import DAG, EmptyOperator

        with DAG("dup"):
            EmptyOperator(task_id="a")
            EmptyOperator(task_id="a")
    """
    path = write(tmp_path, "dup.py", source)
    with pytest.raises(DuplicateTaskIdFound) as error:
        process(path)
    frames = [
        (frame.filename, frame.lineno) for frame in traceback.extract_tb(error.value.__traceback__)
    ]
    assert (str(path), 6) in frames


def test_a_cycle_is_found_by_validation_after_import(tmp_path):
    source = """
        from dagruns.sdk import DAG, EmptyOperator

        with DAG("loop"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
    """
    with pytest.raises(AirflowDagCycleException, match="a >> b >> a"):
        process(write(tmp_path, "loop.py", source))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('DAG("bad id")', "dag_id"),
        ('DAG("c", schedule="0 0 * *")', "'0 0 \\* \\*'"),
        ('EmptyOperator(task_id="t", trigger_rule="all_good", dag=DAG("r"))', "all_good"),
    ],
)
def test_bad_definitions_raise_definition_errors(tmp_path, line, message):
    path = write(tmp_path, "bad.py", f"from dagruns.sdk import DAG, EmptyOperator\n{line}\n")
    with pytest.raises(DagDefinitionError, match=message):
        process(path)


def test_the_registry_holds_only_the_processed_files_dags(tmp_path):
    first = process(write(tmp_path, "one.py", TUTORIAL))
    second = process(write(tmp_path, "two.py", TASKFLOW))
    assert [d.dag_id for d in first] == ["tutorial"]
    assert [d.dag_id for d in second] == ["tutorial_taskflow_api"]
