import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    DagDefinitionError,
    EmptyOperator,
    chain,
    cross_downstream,
)


def edges(dag):
    return sorted((task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids)


def make(dag_id, names):
    dag = DAG(dag_id)
    return dag, [EmptyOperator(task_id=name, dag=dag) for name in names]


def test_rshift_and_lshift_set_edges_and_return_the_right_operand():
    dag, (a, b, c) = make("d", "abc")
    assert (a >> b) is b
    assert (c << b) is b
    assert edges(dag) == [("a", "b"), ("b", "c")]


def test_lists_on_either_side():
    dag, (a, b, c, d) = make("d", "abcd")
    a >> [b, c]
    [b, c] >> d
    assert edges(dag) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]


def test_reverse_operators_with_lists():
    dag, (a, b, c) = make("d", "abc")
    [a, b] << c
    assert edges(dag) == [("c", "a"), ("c", "b")]


def test_set_upstream_and_set_downstream():
    dag, (a, b, c) = make("d", "abc")
    b.set_upstream(a)
    b.set_downstream([c])
    assert edges(dag) == [("a", "b"), ("b", "c")]


def test_chain_links_in_sequence_and_lists_pairwise():
    dag, (a, b, c, d, e, f) = make("d", "abcdef")
    chain(a, [b, c], [d, e], f)
    assert edges(dag) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "e"), ("d", "f"), ("e", "f")]


def test_chain_rejects_lists_of_different_length():
    _, (a, b, c) = make("d", "abc")
    with pytest.raises(AirflowException, match="different length"):
        chain([a, b], [c])


def test_cross_downstream_links_every_pair():
    dag, (a, b, c, d) = make("d", "abcd")
    cross_downstream([a, b], [c, d])
    assert edges(dag) == [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")]


def test_tasks_of_two_dags_cannot_be_linked():
    _, (a,) = make("one", "a")
    _, (b,) = make("two", "b")
    with pytest.raises(DagDefinitionError, match="more than one DAG"):
        a >> b


def test_linking_tasks_that_have_no_dag_is_an_error():
    with pytest.raises(DagDefinitionError, match="don't have DAGs yet"):
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")


def test_only_nodes_can_be_linked():
    _, (a,) = make("d", "a")
    with pytest.raises(DagDefinitionError, match="received str"):
        a >> "b"


def test_chain_linear_links_every_task_of_each_element_to_every_task_of_the_next():
    from dagruns.sdk import chain_linear

    dag, (a, b, c, d, e, f, g) = make("d", "abcdefg")
    chain_linear(a, [b, c], [d, e, f], g)
    assert edges(dag) == [
        ("a", "b"), ("a", "c"),
        ("b", "d"), ("b", "e"), ("b", "f"), ("c", "d"), ("c", "e"), ("c", "f"),
        ("d", "g"), ("e", "g"), ("f", "g"),
    ]  # fmt: skip


def test_chain_linear_refuses_nothing_to_do_a_single_element_and_labels():
    from dagruns.sdk import Label, chain_linear

    dag, (a, b) = make("d", "ab")
    with pytest.raises(ValueError, match="No tasks provided"):
        chain_linear()
    with pytest.raises(ValueError, match="Did you forget to expand with `\\*`"):
        chain_linear([a, b])
    with pytest.raises(ValueError, match="Labels are not supported by chain_linear"):
        chain_linear(a, Label("x"), b)
