"""Clear and mark, including clearing a task while it runs and deleting a DAG file while its
run is active."""

from __future__ import annotations

import time

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.task_instances import do_clear, do_mark_state, select_task_instances
from dagruns.models import DagRun, TaskInstance, TaskInstanceHistory
from scheduler.processor.loop import DagProcessor

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor(name="e2e")

FLAKY = """
def once_bad(ti=None):
    if ti.try_number == 1:
        raise RuntimeError("first try fails")

with DAG("fix_me", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="step", python_callable=once_bad) >> EmptyOperator(task_id="after")
"""


def test_clearing_a_failed_task_and_its_downstream_runs_them_again(engine):
    engine.add("fix_me.py", FLAKY)
    engine.parse()
    run = engine.run_dag("fix_me")
    assert run.state == "failed"
    assert engine.states(run) == {"step": "failed", "after": "upstream_failed"}
    tis = select_task_instances(
        "fix_me", run_ids=[run.run_id], task_ids=["step"], include_downstream=True
    )
    do_clear(tis, ACTOR)
    run.refresh_from_db()
    assert run.state == "running"
    engine.run(run)
    run.refresh_from_db()
    assert run.state == "success"
    step = engine.ti(run, "step")
    assert step.try_number == 2
    assert list(
        TaskInstanceHistory.objects.filter(task_instance=step)
        .order_by("try_number")
        .values_list("try_number", "state")
    ) == [(1, "failed"), (2, "success")]


def test_only_failed_clears_just_the_failed_ones(engine):
    engine.add("fix_me.py", FLAKY)
    engine.parse()
    run = engine.run_dag("fix_me")
    tis = select_task_instances("fix_me", run_ids=[run.run_id], only_failed=True)
    assert sorted(t.task_id for t in tis) == ["after", "step"]  # upstream_failed counts


def test_marking_a_failed_task_success_lets_the_run_finish(engine):
    engine.add("fix_me.py", FLAKY)
    engine.parse()
    run = engine.run_dag("fix_me")
    step = select_task_instances("fix_me", run_ids=[run.run_id], task_ids=["step"])
    assert [t.task_id for t in do_mark_state(step, "success", ACTOR, dry_run=True)] == ["step"]
    assert engine.ti(run, "step").state == "failed"  # dry run changed nothing
    do_mark_state(step, "success", ACTOR)
    after = select_task_instances("fix_me", run_ids=[run.run_id], task_ids=["after"])
    do_clear(after, ACTOR)
    engine.run(run)
    run.refresh_from_db()
    assert run.state == "success"
    assert engine.states(run) == {"step": "success", "after": "success"}


@pytest.mark.executor_sensitive
def test_clearing_a_task_while_it_runs_kills_it_and_runs_it_again(engine):
    engine.add(
        "long.py",
        """
        def long(ti=None):
            import time
            if ti.try_number == 1:
                time.sleep(60)

        with DAG("long", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=long)
        """,
    )
    engine.parse()
    run = engine.trigger("long")
    scheduler = engine.scheduler()
    deadline = time.monotonic() + 30

    def running(_r):
        return engine.ti(run, "t").state == "running" or time.monotonic() > deadline

    scheduler.run_until(running)
    assert engine.ti(run, "t").state == "running"
    do_clear(select_task_instances("long", run_ids=[run.run_id]), ACTOR)
    engine.run(run, timeout=30)
    run.refresh_from_db()
    ti = engine.ti(run, "t")
    assert (run.state, ti.state, ti.try_number) == ("success", "success", 2)


def test_deleting_a_dag_file_while_its_run_is_active_ends_the_run(engine):
    path = engine.add(
        "doomed_file.py",
        """
        with DAG("doomed_file", schedule=None, start_date=START) as dag:
            BashOperator(task_id="first", bash_command="sleep 2") >> BashOperator(
                task_id="second", bash_command="echo hi")
        """,
    )
    engine.parse()
    run = engine.trigger("doomed_file")
    scheduler = engine.scheduler()
    scheduler.run_until(lambda _r: engine.ti(run, "first").state == "running", timeout=30)
    time.sleep(0.5)  # `first` has imported its file by now; `second` has not
    path.unlink()
    DagProcessor().run_once()
    engine.run(run, timeout=30)
    run.refresh_from_db()
    assert run.state == "failed"
    assert engine.states(run)["second"] == "failed"
    assert DagRun.objects.get(pk=run.pk).dag.is_active is False
    assert TaskInstance.objects.get(dag_run=run, task_id="second").try_number == 1
