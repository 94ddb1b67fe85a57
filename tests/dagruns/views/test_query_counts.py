"""The grid, graph, gantt and DAG list pages cost a constant number of queries, whatever the
number of tasks or runs (the grid is built from one query of runs and one of task instances)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

CAP = 14  # session, user, role groups, the page's own handful


def _chain(n: int) -> dict[str, list[str]]:
    return {f"t{i}": [f"t{i + 1}"] if i + 1 < n else [] for i in range(n)}


def _queries(client, path: str) -> int:
    client.get(path)  # warm the per-version caches, as a running server has them
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _build(dag_id: str, tasks: int, runs: int, groups: bool = False):
    edges = _chain(tasks)
    grouping = {"g": [f"t{i}" for i in range(1, tasks // 2)]} if groups else None
    dag = store_dag(dag_id, edges, groups=grouping, tags=["a", "b"])
    for i in range(runs):
        add_run(dag, states={"t0": "success", "t1": "running" if i == runs - 1 else "success"})
    return dag


@pytest.mark.parametrize("page", ["", "graph", "gantt", "runs"])
def test_dag_pages_do_not_grow_with_tasks_or_runs(viewer, page, django_assert_max_num_queries):
    _build("small", tasks=3, runs=2)
    _build("large", tasks=120, runs=30, groups=True)
    small = _queries(viewer, f"/dags/small/{page}")
    large = _queries(viewer, f"/dags/large/{page}")
    assert small == large
    with django_assert_max_num_queries(CAP):
        viewer.get(f"/dags/large/{page}")


def test_the_dag_list_does_not_grow_with_dags_or_runs(viewer, django_assert_max_num_queries):
    _build("one", tasks=2, runs=1)
    few = _queries(viewer, "/")
    for i in range(20):
        _build(f"more_{i:02d}", tasks=3, runs=12)
    many = _queries(viewer, "/")
    assert few == many
    with django_assert_max_num_queries(CAP):
        viewer.get("/")


def test_the_task_instance_page_does_not_grow_with_tries(viewer, django_assert_max_num_queries):
    from dagruns.models import TaskInstance, TaskInstanceHistory

    dag = _build("tries", tasks=3, runs=1)
    ti = TaskInstance.objects.get(task_id="t1")
    url = f"/dags/tries/runs/{ti.run_id}/tasks/t1"
    before = _queries(viewer, url)
    for n in range(1, 6):
        TaskInstanceHistory.objects.create(
            task_instance=ti,
            dag_id=dag.dag_id,
            run_id=ti.run_id,
            task_id="t1",
            try_number=n,
            state="failed",
        )
    assert _queries(viewer, url) == before
