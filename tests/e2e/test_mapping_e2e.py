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

            @task
            def pulled(ti=None):
                every = ti.xcom_pull(task_ids="double")
                some = ti.xcom_pull(task_ids="double", map_indexes=[0, 2])
                one = ti.xcom_pull(task_ids="double", map_indexes=1)
                return [[r["x"] for r in every], [r["x"] for r in some], one["x"]]

            doubled = double.expand(x=[1, 2, 3])
            total(doubled)
            doubled >> pulled()
        """,
    )
    engine.parse()
    run = engine.run_dag("lit")
    assert states(run) == {
        "double": {0: "success", 1: "success", 2: "success"},
        "total": "success",
        "pulled": "success",
    }
    assert values(run, "pulled") == [[[2, 4, 6], [2, 6], 4]]
    assert values(run, "double") == [
        {"x": 2, "index": 0, "of": 3},
        {"x": 4, "index": 1, "of": 3},
        {"x": 6, "index": 2, "of": 3},
    ]
    assert values(run, "total") == [[3, 12, 1]]
    names = TaskInstance.objects.filter(dag_run=run, task_id="double").order_by("map_index")
    assert [ti.rendered_map_index for ti in names] == ["1-th", "2-th", "3-th"]


def test_an_upstream_list_a_classic_operator_and_a_dict(engine):
    engine.add(
        "xcoms.py",
        """
        with DAG("xcoms", schedule=None, start_date=START) as dag:
            @task
            def files():
                return ["a.txt", "b.txt"]

            @task
            def sizes():
                return {"small": 1, "large": 100}

            @task
            def describe(item):
                key, value = item
                return f"{key}={value}"

            BashOperator.partial(task_id="show", retries=1).expand(
                bash_command=files().map(lambda name: f"echo {name}")
            )
            describe.expand(item=sizes())
        """,
    )
    engine.parse()
    run = engine.run_dag("xcoms")
    assert states(run) == {
        "files": "success",
        "sizes": "success",
        "show": {0: "success", 1: "success"},
        "describe": {0: "success", 1: "success"},
    }
    assert values(run, "show") == ["a.txt", "b.txt"]
    assert values(run, "describe") == ["small=1", "large=100"]
    assert TaskInstance.objects.get(dag_run=run, task_id="show", map_index=1).max_tries == 1


def test_expand_kwargs_partial_and_the_cartesian_product(engine):
    engine.add(
        "kwargs.py",
        """
        with DAG("kwargs", schedule=None, start_date=START) as dag:
            @task
            def pairs():
                return [{"a": 1, "b": 2}, {"a": 10, "b": 20}]

            @task
            def add(a, b, c=0):
                return a + b + c

            add.override(task_id="from_xcom").partial(c=100).expand_kwargs(pairs())
            add.override(task_id="literal").expand_kwargs([{"a": 1, "b": 1}, {"a": 2, "b": 2, "c": 2}])
            add.override(task_id="product").expand(a=[1, 2], b=[10, 20, 30])
        """,
    )
    engine.parse()
    run = engine.run_dag("kwargs")
    assert values(run, "from_xcom") == [103, 130]
    assert values(run, "literal") == [2, 6]
    # Airflow's order: the last argument varies fastest.
    assert values(run, "product") == [11, 21, 31, 12, 22, 32]
    assert run.state == "success"


def test_zip_and_concat(engine):
    engine.add(
        "zipcat.py",
        """
        with DAG("zipcat", schedule=None, start_date=START) as dag:
            @task
            def letters():
                return ["a", "b", "c"]

            @task
            def numbers():
                return [1, 2]

            @task
            def show(value):
                return value

            l, n = letters(), numbers()
            show.override(task_id="zipped").expand(value=l.zip(n))
            show.override(task_id="zipped_long").expand(value=l.zip(n, fillvalue=0))
            show.override(task_id="joined").expand(value=l.concat(n))
        """,
    )
    engine.parse()
    run = engine.run_dag("zipcat")
    assert values(run, "zipped") == [["a", 1], ["b", 2]]
    assert values(run, "zipped_long") == [["a", 1], ["b", 2], ["c", 0]]
    assert values(run, "joined") == ["a", "b", "c", 1, 2]


def test_a_mapped_task_group_runs_each_index_through_the_group(engine):
    engine.add(
        "group.py",
        """
        from dagruns.sdk import task_group

        with DAG("group", schedule=None, start_date=START) as dag:
            @task
            def inc(x):
                if x == 2:
                    raise ValueError("two is bad")
                return x + 1

            @task
            def square(x):
                return x * x

            @task_group
            def pipeline(x):
                return square(inc(x))

            @task
            def collect(results):
                return sorted(results)

            collect.override(trigger_rule="all_done")(pipeline.expand(x=[1, 2, 3]))
        """,
    )
    engine.parse()
    run = engine.run_dag("group")
    assert states(run) == {
        "pipeline.inc": {0: "success", 1: "failed", 2: "success"},
        "pipeline.square": {0: "success", 1: "upstream_failed", 2: "success"},
        "collect": "success",
    }
    assert values(run, "pipeline.square") == [4, 16]
    assert values(run, "collect") == [[4, 16]]
    assert run.state == "success"  # the leaf (collect) succeeded, as in Airflow


def test_zero_length_skips_the_mapped_task_and_trigger_rules_follow(engine):
    engine.add(
        "zero.py",
        """
        with DAG("zero", schedule=None, start_date=START) as dag:
            @task
            def nothing():
                return []

            @task
            def work(x):
                return x

            @task
            def after(values):
                return values  # the lazy sequence itself: pushed as a list

            mapped = work.expand(x=nothing())
            after(mapped)
            after.override(task_id="anyway", trigger_rule="none_failed")(mapped)
        """,
    )
    engine.parse()
    run = engine.run_dag("zero")
    assert states(run) == {
        "nothing": "success",
        "work": "skipped",
        "after": "skipped",
        "anyway": "success",
    }
    assert values(run, "anyway") == [[]]
    assert run.state == "success"


def test_a_branch_into_a_mapped_task(engine):
    engine.add(
        "branchmap.py",
        """
        with DAG("branchmap", schedule=None, start_date=START) as dag:
            @task.branch
            def choose():
                return "taken"

            @task
            def taken(x):
                return x

            @task
            def not_taken(x):
                return x

            join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
            c = choose()
            t, n = taken.expand(x=[1, 2]), not_taken.expand(x=[1, 2])
            c >> [t, n]
            [t, n] >> join
        """,
    )
    engine.parse()
    run = engine.run_dag("branchmap")
    # Airflow: the literal-mapped tasks are expanded at once; the branch skips every
    # instance of the task it did not choose.
    assert states(run) == {
        "choose": "success",
        "taken": {0: "success", 1: "success"},
        "not_taken": {0: "skipped", 1: "skipped"},
        "join": "success",
    }


def test_a_non_list_result_fails_the_pusher_naming_its_type(engine):
    engine.add(
        "notlist.py",
        """
        with DAG("notlist", schedule=None, start_date=START) as dag:
            @task
            def one():
                return 42

            @task
            def work(x):
                return x

            work.expand(x=one())
        """,
    )
    engine.parse()
    run = engine.run_dag("notlist")
    assert states(run) == {"one": "failed", "work": "upstream_failed"}
    assert "UnmappableXComTypePushed" in log_of(run, "one")
    assert "unmappable return type 'int'" in log_of(run, "one")


def test_ten_thousand_items_fail_the_pusher_naming_length_and_limit(engine):
    engine.add(
        "toolong.py",
        """
        with DAG("toolong", schedule=None, start_date=START) as dag:
            @task
            def many():
                return list(range(10_000))

            @task
            def work(x):
                return x

            work.expand(x=many())
            work.override(task_id="literal").expand(x=list(range(10_000)))
        """,
    )
    engine.parse()
    run = engine.run_dag("toolong")
    assert states(run) == {"many": "failed", "work": "upstream_failed", "literal": "failed"}
    assert "unmappable return value length: 10000 > 1024" in log_of(run, "many")
    assert "10000 instances, over the maximum map length of 1024" in log_of(run, "literal")
    assert not TaskInstance.objects.filter(dag_run=run, map_index__gte=0).exists()


def test_a_mapped_task_whose_upstream_failed_is_upstream_failed_and_not_expanded(engine):
    engine.add(
        "upfail.py",
        """
        with DAG("upfail", schedule=None, start_date=START) as dag:
            @task
            def broken():
                raise RuntimeError("no list today")

            @task
            def work(x):
                return x

            work.expand(x=broken())
            EmptyOperator(task_id="first") >> work.override(task_id="literal").expand(x=[1, 2])
        """,
    )
    engine.parse()
    run = engine.run_dag("upfail")
    assert states(run) == {
        "broken": "failed",
        "work": "upstream_failed",
        "first": "success",
        "literal": {0: "success", 1: "success"},
    }
    assert run.state == "failed"


def test_partial_with_an_argument_also_mapped_is_an_import_error_naming_both(engine):
    from dagruns.models import DagImportError, DagModel
    from scheduler.processor.loop import DagProcessor

    engine.add(
        "conflict.py",
        """
        with DAG("conflict", schedule=None, start_date=START) as dag:
            BashOperator.partial(task_id="echo", bash_command="echo 1").expand(
                bash_command=["echo 2"]
            )
        """,
    )
    DagProcessor(timeout=30).run_once()
    (message,) = DagImportError.objects.values_list("message", flat=True)
    assert "Task 'echo': argument 'bash_command' is given to both partial() and expand()" in (
        message
    )
    assert "conflict.py" in DagImportError.objects.get().filename
    assert not DagModel.objects.filter(dag_id="conflict").exists()


def test_a_pusher_returning_nothing_fails_as_airflows_xcom_for_mapping_not_pushed(engine):
    engine.add(
        "nothing.py",
        """
        with DAG("nothing", schedule=None, start_date=START) as dag:
            @task
            def forgot():
                print("no return statement")

            @task
            def work(x):
                return x

            work.expand(x=forgot())
        """,
    )
    engine.parse()
    run = engine.run_dag("nothing")
    assert states(run) == {"forgot": "failed", "work": "upstream_failed"}
    assert "XComForMappingNotPushed" in log_of(run, "forgot")
    assert "did not push XCom for task mapping" in log_of(run, "forgot")


def test_a_mapped_group_with_partial_and_expand_kwargs_over_a_result(engine):
    engine.add(
        "groupkw.py",
        """
        from dagruns.sdk import task_group

        with DAG("groupkw", schedule=None, start_date=START) as dag:
            @task
            def settings():
                return [{"name": "a", "size": 1}, {"name": "b", "size": 2}]

            @task
            def label(name, size, suffix):
                return f"{name}{size}{suffix}"

            @task_group
            def per_file(name, size, suffix):
                label(name, size, suffix)

            per_file.partial(suffix="!").expand_kwargs(settings())
        """,
    )
    engine.parse()
    run = engine.run_dag("groupkw")
    assert states(run) == {"settings": "success", "per_file.label": {0: "success", 1: "success"}}
    assert values(run, "per_file.label") == ["a1!", "b2!"]
