from dagruns.sdk import DAG, EmptyOperator
from dagruns.sdk.graph import find_cycle, topological_order


def build(edges, names="abcde"):
    dag = DAG("g")
    tasks = {name: EmptyOperator(task_id=name, dag=dag) for name in names}
    for up, down in edges:
        tasks[up] >> tasks[down]
    return dag.task_dict


def test_an_acyclic_graph_has_no_cycle():
    assert find_cycle(build([("a", "b"), ("b", "c"), ("a", "c")])) is None


def test_it_returns_the_cycle_as_a_closed_path():
    assert find_cycle(build([("a", "b"), ("b", "c"), ("c", "b"), ("d", "e")])) == ["b", "c", "b"]


def test_it_handles_long_chains_without_recursion():
    names = [f"t{i}" for i in range(3000)]
    dag = DAG("long")
    tasks = [EmptyOperator(task_id=name, dag=dag) for name in names]
    for up, down in zip(tasks, tasks[1:], strict=False):
        up >> down
    assert find_cycle(dag.task_dict) is None
    tasks[-1] >> tasks[0]
    assert len(find_cycle(dag.task_dict)) == 3001


def test_topological_order_breaks_ties_by_task_id():
    assert topological_order(build([("e", "a"), ("d", "b")])) == ["c", "d", "b", "e", "a"]
