import pytest

from dagruns.sdk import (
    DAG,
    DagDefinitionError,
    DuplicateTaskIdFound,
    EmptyOperator,
    TaskGroup,
    task,
    task_group,
)


def edges(dag):
    return sorted((t.task_id, down) for t in dag.tasks for down in t.downstream_task_ids)


def test_group_ids_prefix_task_ids():
    with DAG("d") as dag, TaskGroup("extract") as group:
        task = EmptyOperator(task_id="pull")
    assert task.task_id == "extract.pull"
    assert task.label == "pull"
    assert task.task_group is group
    assert dag.task_group.children == {"extract": group}
    assert group.children == {"extract.pull": task}


def test_nested_groups_prefix_with_every_level():
    with DAG("d"), TaskGroup("outer") as outer, TaskGroup("inner") as inner:
        task = EmptyOperator(task_id="t")
    assert inner.group_id == "outer.inner"
    assert inner.label == "inner"
    assert task.task_id == "outer.inner.t"
    assert list(outer) == [task]


def test_prefix_group_id_false_keeps_task_ids_bare():
    with DAG("d"), TaskGroup("plain", prefix_group_id=False):
        task = EmptyOperator(task_id="t")
    assert task.task_id == "t"
    assert task.label == "t"


def test_group_rshift_links_leaves_to_roots():
    with DAG("d") as dag:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g1") as g1:
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b
            EmptyOperator(task_id="c")
        with TaskGroup("g2") as g2:
            EmptyOperator(task_id="x")
            EmptyOperator(task_id="y")
        end = EmptyOperator(task_id="end")
        start >> g1 >> g2 >> end
    assert edges(dag) == [
        ("g1.a", "g1.b"),
        ("g1.b", "g2.x"),
        ("g1.b", "g2.y"),
        ("g1.c", "g2.x"),
        ("g1.c", "g2.y"),
        ("g2.x", "end"),
        ("g2.y", "end"),
        ("start", "g1.a"),
        ("start", "g1.c"),
    ]


def test_group_leaves_look_through_a_trailing_teardown():
    with DAG("d"), TaskGroup("g") as group:
        setup_task = EmptyOperator(task_id="create").as_setup()
        work = EmptyOperator(task_id="work")
        teardown_task = EmptyOperator(task_id="delete").as_teardown(setups=setup_task)
        setup_task >> work >> teardown_task
    assert group.leaves == [work]
    assert group.roots == [setup_task]


def test_a_duplicate_group_id_is_rejected():
    with DAG("d"):
        TaskGroup("g")
        with pytest.raises(DuplicateTaskIdFound, match="'g'"):
            TaskGroup("g")


def test_a_group_id_may_not_clash_with_a_task_id():
    with DAG("d"):
        EmptyOperator(task_id="same")
        with pytest.raises(DuplicateTaskIdFound):
            TaskGroup("same")
        TaskGroup("group")
        with pytest.raises(DuplicateTaskIdFound):
            EmptyOperator(task_id="group")


def test_add_suffix_on_collision_numbers_repeated_groups():
    with DAG("d"):
        first = TaskGroup("g", add_suffix_on_collision=True)
        second = TaskGroup("g", add_suffix_on_collision=True)
        third = TaskGroup("g", add_suffix_on_collision=True)
    assert [first.group_id, second.group_id, third.group_id] == ["g", "g__1", "g__2"]


def test_a_group_needs_a_dag():
    with pytest.raises(DagDefinitionError, match="inside a DAG"):
        TaskGroup("lonely")


def test_a_bad_group_id_is_rejected():
    with DAG("d"), pytest.raises(DagDefinitionError, match="group_id"):
        TaskGroup("a.b")


def test_group_default_args_apply_inside_the_group_only():
    with DAG("d", default_args={"retries": 1, "queue": "q"}):
        with (
            TaskGroup("g", default_args={"retries": 4}),
            TaskGroup("inner", default_args={"pool": "p"}),
        ):
            inside = EmptyOperator(task_id="t")
        outside = EmptyOperator(task_id="t")
    assert (inside.retries, inside.queue, inside.pool) == (4, "q", "p")
    assert (outside.retries, outside.pool) == (1, "default_pool")


def test_ui_attributes():
    with DAG("d"):
        group = TaskGroup("g", tooltip="Extract things", ui_color="#abc", ui_fgcolor="#123")
    assert (group.tooltip, group.ui_color, group.ui_fgcolor) == ("Extract things", "#abc", "#123")
    assert TaskGroup("h", dag=DAG("e")).ui_color == "CornflowerBlue"


def test_task_group_decorator_builds_a_group_per_call():
    @task
    def work(n):
        return n

    @task_group
    def section(n):
        """Does a section."""
        work(n)

    with DAG("d") as dag:
        first = section(1)
        second = section(2)
    assert isinstance(first, TaskGroup)
    assert (first.group_id, second.group_id) == ("section", "section__1")
    assert first.tooltip == "Does a section."
    assert dag.task_ids == ["section.work", "section__1.work"]


def test_task_group_decorator_returns_the_body_result_for_chaining():
    @task
    def produce():
        return 1

    @task_group(group_id="custom")
    def wrapped():
        return produce()

    with DAG("d") as dag:
        result = wrapped()
        after = EmptyOperator(task_id="after")
        result >> after
    assert result.operator.task_id == "custom.produce"
    assert dag.get_task("after").upstream_task_ids == {"custom.produce"}


def test_task_group_override():
    @task_group
    def section():
        EmptyOperator(task_id="t")

    with DAG("d") as dag:
        section.override(group_id="renamed", prefix_group_id=False)()
    assert dag.task_ids == ["t"]
    assert dag.task_group.children["renamed"].label == "renamed"
