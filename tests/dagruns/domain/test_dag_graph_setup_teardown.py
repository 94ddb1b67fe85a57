"""Which tasks decide a finished run's state, and what clearing a task brings along, when
a DAG has setup and teardown tasks (Airflow's rules)."""

from __future__ import annotations

from dagruns.domain.dag_graph import build_graph


def _graph(edges: dict[str, list[str]], setups=(), teardowns=(), strict=()):
    tasks = []
    for task_id, downs in edges.items():
        ups = [t for t, d in edges.items() if task_id in d]
        tasks.append(
            {
                "task_id": task_id,
                "upstream_task_ids": ups,
                "downstream_task_ids": downs,
                "is_setup": task_id in setups,
                "is_teardown": task_id in teardowns,
                "on_failure_fail_dagrun": task_id in strict,
            }
        )
    return build_graph({"dag_id": "d", "tasks": tasks})


def test_a_teardown_is_looked_through_to_the_work_it_tears_down():
    graph = _graph(
        {"create": ["work", "delete"], "work": ["delete"], "delete": []},
        setups={"create"},
        teardowns={"delete"},
    )
    assert graph.run_state_leaves() == ("work",)


def test_a_teardown_with_on_failure_fail_dagrun_is_a_leaf():
    graph = _graph(
        {"create": ["work", "delete"], "work": ["delete"], "delete": []},
        setups={"create"},
        teardowns={"delete"},
        strict={"delete"},
    )
    assert graph.run_state_leaves() == ("delete",)


def test_a_dag_of_teardowns_only_falls_back_to_its_leaves():
    graph = _graph({"a": ["b"], "b": []}, teardowns={"a", "b"})
    assert graph.run_state_leaves() == ("b",)


def test_clearing_work_brings_its_setup_and_teardown_and_a_setup_its_teardowns():
    graph = _graph(
        {
            "create": ["work", "delete"],
            "other_setup": ["other", "other_teardown"],
            "work": ["delete", "report"],
            "other": ["other_teardown"],
            "delete": [],
            "report": [],
            "other_teardown": [],
        },
        setups={"create", "other_setup"},
        teardowns={"delete", "other_teardown"},
    )
    assert graph.setups_and_teardowns_to_clear("work") == {"create", "delete"}
    assert (
        graph.setups_and_teardowns_to_clear("report") == set()
    )  # its setup's teardown is not below it
    assert graph.setups_and_teardowns_to_clear("create") == {"delete"}
