"""Dynamic task mapping at definition time: what expand()/partial() accept and refuse, the
edges they add, and the serialized facts the scheduler and the views read."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.sdk import (
    DAG,
    BashOperator,
    DagDefinitionError,
    PythonOperator,
    deserialize_dag,
    serialize_dag,
    task,
    task_group,
)
from dagruns.sdk.mappedoperator import MappedOperator, has_mapped_dependants

START = datetime(2024, 1, 1)


@task
def numbers():
    return [1, 2]


@task
def add(x, y=0):
    return x + y


def test_partial_with_an_argument_also_mapped_names_task_and_argument():
    with DAG("d", schedule=None, start_date=START):
        with pytest.raises(DagDefinitionError, match=r"Task 'echo': argument 'bash_command'"):
            BashOperator.partial(task_id="echo", bash_command="x").expand(bash_command=["a"])
        with pytest.raises(DagDefinitionError, match=r"Task 'add': argument 'y' is given to both"):
            add.partial(y=1).expand(y=[1, 2])


def test_mapping_over_an_argument_the_operator_does_not_take_is_refused():
    with DAG("d", schedule=None, start_date=START):
        with pytest.raises(DagDefinitionError, match="unexpected keyword argument 'bogus'"):
            BashOperator.partial(task_id="echo").expand(bogus=["a"])
        with pytest.raises(DagDefinitionError, match="unexpected keyword argument 'z'"):
            add.expand(z=[1])


def test_mapping_over_a_scheduling_argument_is_refused():
    with (
        DAG("d", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match="'retries' cannot be mapped"),
    ):
        BashOperator.partial(task_id="echo", bash_command="x").expand(retries=[1, 2])


def test_mapping_over_a_scalar_names_its_type():
    with DAG("d", schedule=None, start_date=START):
        with pytest.raises(
            DagDefinitionError, match="unexpected type 'int' for keyword argument 'x'"
        ):
            add.expand(x=5)
        with pytest.raises(DagDefinitionError, match="unexpected type 'str'"):
            add.expand(x="abc")
        with pytest.raises(DagDefinitionError, match="item 1 is a 'int', not a dict"):
            add.expand_kwargs([{"x": 1}, 2])


def test_partial_needs_a_task_id_and_known_arguments():
    with pytest.raises(DagDefinitionError, match="needs a task_id"):
        BashOperator.partial(bash_command="x")
    with pytest.raises(DagDefinitionError, match="Invalid arguments.*'nope'"):
        BashOperator.partial(task_id="t", nope=1)


def test_expand_inside_a_mapped_group_is_refused():
    with DAG("d", schedule=None, start_date=START):

        @task_group
        def group(v):
            add.expand(x=[v])

        with pytest.raises(DagDefinitionError, match="inside a mapped task group"):
            group.expand(v=[1])


@pytest.mark.parametrize(
    ("over_outer_argument", "refusal"),
    [
        # Mapped over the outer group's argument: Airflow itself refuses it, in these words.
        (True, "Nested Mapped TaskGroups are not yet supported"),
        # Mapped over anything else: Airflow numbers it wrongly, so we refuse it too.
        (False, "a mapped task group inside a mapped task group is not supported"),
    ],
)
def test_a_mapped_group_inside_a_mapped_group_is_refused(over_outer_argument, refusal):
    with DAG("d", schedule=None, start_date=START):

        @task_group
        def inner(y):
            add(x=y)

        @task_group
        def outer(x):
            inner.expand(y=x if over_outer_argument else [1, 2])

        with pytest.raises(DagDefinitionError, match=refusal):
            outer.expand(x=[[1, 2], [3]])


def test_edges_come_from_mapped_values_and_partial_arguments():
    with DAG("d", schedule=None, start_date=START) as dag:
        source, other = numbers(), numbers()
        add.partial(y=other).expand(x=source.map(lambda v: v + 1))
    assert dag.get_task("add").upstream_task_ids == {"numbers", "numbers__1"}
    assert has_mapped_dependants(dag.get_task("numbers"))
    assert not has_mapped_dependants(dag.get_task("add"))


def test_default_args_reach_the_mapped_task_and_its_instances():
    with DAG("d", schedule=None, start_date=START, default_args={"retries": 3, "env": {"A": "1"}}):
        mapped = BashOperator.partial(task_id="echo").expand(bash_command=["a", "b"])
    assert isinstance(mapped, MappedOperator) and mapped.retries == 3
    instance = mapped.unmap({"bash_command": "echo hi"})
    assert isinstance(instance, BashOperator)
    assert (instance.bash_command, instance.retries, instance.env) == ("echo hi", 3, {"A": "1"})
    assert instance.dag is mapped.dag and instance.task_id == "echo"


def test_the_serialized_dag_says_which_tasks_are_mapped_and_over_what():
    with DAG("d", schedule=None, start_date=START) as dag:
        add.partial(y=1).expand(x=numbers())
        PythonOperator.partial(task_id="py", python_callable=print).expand(op_args=[[1], [2]])

        @task_group
        def group(v):
            add.override(task_id="inner")(v)

        group.expand(v=[1, 2])
        add.override(task_id="plain")(1)
    data = serialize_dag(dag)
    tasks = {t["task_id"]: t for t in data["tasks"]}
    assert tasks["add"]["is_mapped"] and tasks["add"]["expand_input"] == {
        "type": "dict-of-lists",
        "value": {"x": {"__xcomarg": {"task_id": "numbers", "key": "return_value"}}},
    }
    assert tasks["add"]["template_values"]["op_kwargs"] == {"y": 1}
    assert tasks["py"]["task_type"] == "PythonOperator" and tasks["py"]["is_mapped"]
    assert tasks["group.inner"]["is_mapped"] and tasks["group.inner"]["expand_input"] is None
    assert tasks["group.inner"]["mapped_task_group_id"] == "group"
    assert not tasks["plain"]["is_mapped"] and tasks["plain"]["mapped_task_group_id"] is None
    group_data = next(c for c in data["task_group"]["children"] if isinstance(c, dict))
    assert group_data["is_mapped"] and group_data["expand_input"]["value"] == {"v": [1, 2]}
    # The round trip keeps every mapping fact.
    assert serialize_dag(deserialize_dag(data)) == data


def test_map_index_template_must_be_a_string():
    with (
        DAG("d", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match="map_index_template must be a string"),
    ):
        BashOperator(task_id="t", bash_command="x", map_index_template=3)


def test_a_range_maps_like_the_list_of_its_items():
    with DAG("d", schedule=None, start_date=START) as dag:
        add.expand(x=range(3))
    (data,) = serialize_dag(dag)["tasks"]
    assert data["expand_input"]["value"] == {"x": [0, 1, 2]}


def test_an_unknown_operator_argument_of_a_mapped_taskflow_task_fails_at_definition():
    with (
        DAG("d", schedule=None, start_date=START),
        pytest.raises(DagDefinitionError, match=r"task_id: 'add'.*\['bogus'\]"),
    ):
        add.override(bogus=1).expand(x=[1])
