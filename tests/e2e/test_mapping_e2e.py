"""Dynamic task mapping run for real (processor → scheduler → local executor → runner →
Execution API), final states compared with Airflow's for the same DAG."""

from __future__ import annotations

import pytest

from dagruns.domain import logs
from dagruns.models import TaskInstance, XCom

pytestmark = pytest.mark.django_db(transaction=True)


def states(run) -> dict:
    """task_id -> state, or task_id -> {map_index: state} for a map-indexed task."""
    found: dict = {}
    for task_id, index, state in TaskInstance.objects.filter(dag_run=run).values_list(
        "task_id", "map_index", "state"
    ):
        if index < 0:
            found[task_id] = state
        else:
            found.setdefault(task_id, {})[index] = state
    return found


def values(run, task_id) -> list:
    rows = XCom.objects.filter(dag_run=run, task_id=task_id, key="return_value").order_by(
        "map_index"
    )
    return [row.value for row in rows]


def log_of(run, task_id, map_index=-1) -> str:
    ti = TaskInstance.objects.get(dag_run=run, task_id=task_id, map_index=map_index)
    return logs.ti_log_path(ti).read_text()


def test_a_literal_list_and_a_reduce(engine):
    engine.add(
        "lit.py",
        """
        with DAG("lit", schedule=None, start_date=START) as dag:
            @task(map_index_template="{{ task.op_kwargs['x'] }}-th")
            def double(x, **context):
                return {"x": 2 * x, "index": context["map_index"], "of": context["expanded_ti_count"]}

            @task
            def total(results):
                return [len(results), sum(r["x"] for r in results), results[1]["index"]]

            total(double.expand(x=[1, 2, 3]))
        """,
    )
    engine.parse()
    run = engine.run_dag("lit")
    assert states(run) == {"double": {0: "success", 1: "success", 2: "success"}, "total": "success"}
    assert values(run, "double") == [
        {"x": 2, "index": 0, "of": 3},
        {"x": 4, "index": 1, "of": 3},
        {"x": 6, "index": 2, "of": 3},
    ]
    assert values(run, "total") == [[3, 12, 1]]
    names = TaskInstance.objects.filter(dag_run=run, task_id="double").order_by("map_index")
    assert [ti.rendered_map_index for ti in names] == ["1-th", "2-th", "3-th"]
