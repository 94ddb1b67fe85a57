"""The scheduler's side of dynamic task mapping: when and how a mapped task expands, and how
its instances' states feed trigger rules and the run's state (scheduler/scheduling/)."""

from __future__ import annotations

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.xcoms import do_set_xcom
from dagruns.domain import logs
from dagruns.models import TaskInstance
from dagruns.sdk import DAG, BashOperator, task, task_group
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def trigger(dag_id):
    return do_trigger_dag(dag_id, Actor(name="test"))


def rows(run) -> dict:
    return {
        (t, i): s
        for t, i, s in TaskInstance.objects.filter(dag_run=run).values_list(
            "task_id", "map_index", "state"
        )
    }


def tick(run):
    Scheduler(executor=RecordingExecutor()).run_once()
    run.refresh_from_db()
    return rows(run)


def finish(run, task_id, state="success", map_index=-1, value=None):
    ti = TaskInstance.objects.get(dag_run=run, task_id=task_id, map_index=map_index)
    if value is not None:
        do_set_xcom(run, task_id, "return_value", value, map_index)
    ti.state = state
    ti.save(update_fields=["state"])


@task
def numbers():
    return [1, 2, 3]


@task
def double(x):
    return 2 * x


@task
def total(values):
    return sum(values)


def test_a_literal_list_expands_at_once_into_one_instance_per_item():
    with DAG("lit", schedule=None, start_date=START) as dag:
        BashOperator.partial(task_id="echo").expand(bash_command=["echo a", "echo b", "echo c"])
    store(dag)
    run = trigger("lit")
    assert tick(run) == {("echo", 0): "queued", ("echo", 1): "queued", ("echo", 2): "queued"}


def test_an_xcom_list_expands_once_its_pusher_succeeded_and_the_reduce_waits_for_all():
    with DAG("xl", schedule=None, start_date=START) as dag:
        total(double.expand(x=numbers()))
    store(dag)
    run = trigger("xl")
    assert tick(run) == {("numbers", -1): "queued", ("double", -1): None, ("total", -1): None}
    finish(run, "numbers", value=[1, 2, 3])
    assert tick(run) == {
        ("numbers", -1): "success",
        ("double", 0): "queued",
        ("double", 1): "queued",
        ("double", 2): "queued",
        ("total", -1): None,
    }
    finish(run, "double", map_index=0)
    finish(run, "double", map_index=1)
    assert tick(run)[("total", -1)] is None  # one instance still running
    finish(run, "double", map_index=2)
    assert tick(run)[("total", -1)] == "queued"


def test_a_dict_xcom_expands_into_one_instance_per_item():
    with DAG("xd", schedule=None, start_date=START) as dag:
        double.expand(x=numbers())
    store(dag)
    run = trigger("xd")
    tick(run)
    finish(run, "numbers", value={"a": 1, "b": 2})
    assert sorted(i for (t, i) in tick(run) if t == "double") == [0, 1]


def test_an_empty_list_skips_the_mapped_task_and_its_all_success_downstream():
    with DAG("empty", schedule=None, start_date=START) as dag:
        total(double.expand(x=numbers()))
    store(dag)
    run = trigger("empty")
    tick(run)
    finish(run, "numbers", value=[])
    assert tick(run) == {
        ("numbers", -1): "success",
        ("double", -1): "skipped",
        ("total", -1): "skipped",
    }
    assert run.state == "success"


def test_a_failed_upstream_makes_the_mapped_task_upstream_failed_without_expanding_it():
    with DAG("upf", schedule=None, start_date=START) as dag:
        double.expand(x=numbers())
    store(dag)
    run = trigger("upf")
    tick(run)
    finish(run, "numbers", state="failed")
    assert tick(run) == {("numbers", -1): "failed", ("double", -1): "upstream_failed"}
    assert run.state == "failed"


def test_a_literal_over_the_maximum_fails_the_mapped_task_with_the_reason_in_its_log(
    orch_settings,
):
    orch_settings.max_map_length = 5
    with DAG("long", schedule=None, start_date=START) as dag:
        double.expand(x=list(range(6)))
    store(dag)
    run = trigger("long")
    assert tick(run) == {("double", -1): "failed"}
    assert run.state == "failed"
    ti = TaskInstance.objects.get(dag_run=run, task_id="double")
    text = logs.ti_log_path(ti).read_text()
    assert "6 instances, over the maximum map length of 5 (ORCH_MAX_MAP_LENGTH)" in text


def test_a_non_list_xcom_fails_the_mapped_task_naming_the_type():
    # The runner fails the pusher first (UnmappableXComTypePushed); a value stored some
    # other way still cannot expand.
    with DAG("notlist", schedule=None, start_date=START) as dag:
        double.expand(x=numbers())
    store(dag)
    run = trigger("notlist")
    tick(run)
    finish(run, "numbers", value=42)
    assert tick(run)[("double", -1)] == "failed"
    ti = TaskInstance.objects.get(dag_run=run, task_id="double")
    assert "pushed a 'int'" in logs.ti_log_path(ti).read_text()


def test_a_downstream_sees_every_instance_state_under_its_trigger_rule():
    with DAG("rules", schedule=None, start_date=START) as dag:
        mapped = double.expand(x=[1, 2])
        after = total.override(trigger_rule="one_failed")(mapped)
        mapped >> after
    store(dag)
    run = trigger("rules")
    tick(run)
    finish(run, "double", map_index=0)
    assert tick(run)[("total", -1)] is None
    finish(run, "double", state="failed", map_index=1)
    assert tick(run)[("total", -1)] == "queued"


def test_instances_in_a_mapped_group_wait_only_for_their_own_index_upstream():
    with DAG("grp", schedule=None, start_date=START) as dag:

        @task_group
        def pipeline(v):
            total(double(v))

        pipeline.expand(v=[1, 2])
    store(dag)
    run = trigger("grp")
    assert tick(run) == {
        ("pipeline.double", 0): "queued",
        ("pipeline.double", 1): "queued",
        ("pipeline.total", 0): None,
        ("pipeline.total", 1): None,
    }
    finish(run, "pipeline.double", map_index=1)
    state = tick(run)
    assert state[("pipeline.total", 1)] == "queued" and state[("pipeline.total", 0)] is None
    finish(run, "pipeline.double", state="failed", map_index=0)
    assert tick(run)[("pipeline.total", 0)] == "upstream_failed"


def test_a_mapped_upstream_feeds_a_mapped_downstream_by_its_pushed_results():
    with DAG("chain", schedule=None, start_date=START) as dag:
        double.override(task_id="again").expand(x=double.expand(x=[1, 2, 3]))
    store(dag)
    run = trigger("chain")
    tick(run)
    finish(run, "double", map_index=0, value=2)
    finish(run, "double", map_index=1, value=4)
    finish(run, "double", map_index=2, state="skipped")
    assert sorted(i for (t, i) in tick(run) if t == "again") == [0, 1]


def test_task_concurrency_limits_apply_across_a_mapped_tasks_instances():
    with DAG("limited", schedule=None, start_date=START) as dag:
        BashOperator.partial(task_id="echo", max_active_tis_per_dagrun=2).expand(
            bash_command=["echo a", "echo b", "echo c"]
        )
    store(dag)
    run = trigger("limited")
    assert sorted(tick(run).values(), key=str) == ["queued", "queued", "scheduled"]


def test_each_instance_takes_its_own_pool_slots(orch_settings):
    from dagruns.models import Pool

    Pool.objects.create(name="small", slots=3)
    with DAG("pooled", schedule=None, start_date=START) as dag:
        BashOperator.partial(task_id="echo", pool="small", pool_slots=2).expand(
            bash_command=["echo a", "echo b"]
        )
    store(dag)
    run = trigger("pooled")
    assert sorted(tick(run).values(), key=str) == ["queued", "scheduled"]


def test_an_all_done_mapped_task_over_a_skipped_or_failed_upstream_never_runs():
    with DAG("alldone", schedule=None, start_date=START) as dag:
        double.override(trigger_rule="all_done").expand(x=numbers())
        double.override(task_id="other", trigger_rule="all_done").expand(
            x=numbers.override(task_id="more")()
        )
    store(dag)
    run = trigger("alldone")
    tick(run)
    finish(run, "numbers", state="skipped")
    finish(run, "more", state="failed")
    state = tick(run)
    assert (state[("double", -1)], state[("other", -1)]) == ("skipped", "upstream_failed")


def test_a_cleared_upstream_pushing_another_length_revises_the_instances():
    with DAG("revise", schedule=None, start_date=START) as dag:
        double.expand(x=numbers())
    store(dag)
    run = trigger("revise")
    tick(run)
    finish(run, "numbers", value=[1, 2, 3])
    tick(run)
    # Cleared and run again, the upstream now returns two items: the third instance goes.
    TaskInstance.objects.filter(dag_run=run).update(state=None)
    finish(run, "numbers", value=[1, 2])
    state = tick(run)
    assert {k: v for k, v in state.items() if k[0] == "double"} == {
        ("double", 0): "queued",
        ("double", 1): "queued",
        ("double", 2): "removed",
    }
    TaskInstance.objects.filter(dag_run=run).update(state=None)
    finish(run, "numbers", value=[1, 2, 3, 4])
    state = tick(run)
    assert sorted(i for (t, i), s in state.items() if t == "double" and s == "queued") == [
        0,
        1,
        2,
        3,
    ]
