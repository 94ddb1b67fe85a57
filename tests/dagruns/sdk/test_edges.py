"""Label on edges: the ways Airflow DAGs write it, what is stored, and misuse."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.sdk import (
    DAG,
    EmptyOperator,
    Label,
    TaskGroup,
    chain,
    deserialize_dag,
    serialize_dag,
    task,
)
from dagruns.sdk.exceptions import DagDefinitionError

START = datetime(2024, 1, 1)


def _tasks(*ids: str) -> list[EmptyOperator]:
    return [EmptyOperator(task_id=task_id) for task_id in ids]


def test_a_label_between_two_tasks_makes_the_edge_and_records_its_text():
    with DAG("d", schedule=None, start_date=START) as dag:
        a, b = _tasks("a", "b")
        a >> Label("on success") >> b
    assert a.downstream_task_ids == {"b"}
    assert dag.get_edge_info("a", "b") == {"label": "on success"}


def test_labels_work_leftwards_with_lists_in_chain_and_with_edge_modifier():
    with DAG("d", schedule=None, start_date=START) as dag:
        a, b, c, d, e, f = _tasks("a", "b", "c", "d", "e", "f")
        b << Label("backwards") << a
        [b, c] >> Label("join") >> d
        chain(d, Label("chained"), e)
        e.set_downstream(f, edge_modifier=Label("direct"))
    assert dag.edge_info == {
        "a": {"b": {"label": "backwards"}},
        "b": {"d": {"label": "join"}},
        "c": {"d": {"label": "join"}},
        "d": {"e": {"label": "chained"}},
        "e": {"f": {"label": "direct"}},
    }


def test_a_label_before_a_task_group_labels_the_edges_into_its_roots():
    with DAG("d", schedule=None, start_date=START) as dag:
        (start,) = _tasks("start")
        with TaskGroup("g") as group:
            one, two = _tasks("one", "two")
        start >> Label("into the group") >> group

        @task
        def after():
            return 1

        group >> Label("out") >> after()
    assert dag.get_edge_info("start", "g.one") == {"label": "into the group"}
    assert dag.get_edge_info("g.two", "after") == {"label": "out"}


def test_edge_info_survives_serialization_and_is_absent_without_labels():
    with DAG("d", schedule=None, start_date=START) as dag:
        a, b = _tasks("a", "b")
        a >> Label("why") >> b
    data = serialize_dag(dag)
    assert data["edge_info"] == {"a": {"b": {"label": "why"}}}
    assert serialize_dag(deserialize_dag(data)) == data
    with DAG("plain", schedule=None, start_date=START) as plain:
        a, b = _tasks("a", "b")
        a >> b
    assert "edge_info" not in serialize_dag(plain)


def test_label_misuse_is_a_clear_error():
    with DAG("d", schedule=None, start_date=START):
        a, b = _tasks("a", "b")
        with pytest.raises(DagDefinitionError, match="edge label must be a str|takes the label"):
            a >> Label(42) >> b  # type: ignore[arg-type]
        with pytest.raises(DagDefinitionError, match="two edge labels next to each other"):
            a >> Label("one") >> Label("two")
        with pytest.raises(DagDefinitionError, match="received str"):
            a >> Label("to nowhere") >> "b"
