"""Retries (with delay and exponential backoff), execution_timeout and dagrun_timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.models import TaskInstanceHistory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.executor_sensitive]


def test_a_flaky_task_is_retried_after_its_delay_until_it_succeeds(engine):
    engine.add(
        "flaky.py",
        """
        def flaky(ti=None):
            if ti.try_number < 3:
                raise RuntimeError(f"try {ti.try_number} fails")
            return ti.try_number

        with DAG("flaky", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="flaky", python_callable=flaky, retries=2,
                           retry_delay=timedelta(seconds=1))
        """,
    )
    engine.parse()
    run = engine.run_dag("flaky")
    ti = engine.ti(run, "flaky")
    assert (ti.state, ti.try_number, run.state) == ("success", 3, "success")
    tries = list(TaskInstanceHistory.objects.filter(task_instance=ti).order_by("try_number"))
    assert [(t.try_number, t.state) for t in tries] == [
        (1, "up_for_retry"),
        (2, "up_for_retry"),
        (3, "success"),
    ]
    for earlier, later in zip(tries, tries[1:], strict=False):
        assert later.start_date - earlier.end_date >= timedelta(seconds=1)


def test_a_task_that_keeps_failing_ends_failed_after_its_retries(engine):
    engine.add(
        "doomed.py",
        """
        with DAG("doomed", schedule=None, start_date=START) as dag:
            BashOperator(task_id="doomed", bash_command="exit 1", retries=1,
                         retry_delay=timedelta(seconds=0))
        """,
    )
    engine.parse()
    run = engine.run_dag("doomed")
    ti = engine.ti(run, "doomed")
    assert (ti.state, ti.try_number, run.state) == ("failed", 2, "failed")


def test_exponential_backoff_waits_longer_each_try_within_its_bounds(engine):
    engine.add(
        "backoff.py",
        """
        def fail():
            raise RuntimeError("no")

        with DAG("backoff", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=fail, retries=2,
                           retry_delay=timedelta(seconds=1), retry_exponential_backoff=True,
                           max_retry_delay=timedelta(seconds=3))
        """,
    )
    engine.parse()
    run = engine.run_dag("backoff", timeout=90)
    tries = list(
        TaskInstanceHistory.objects.filter(task_instance=engine.ti(run, "t")).order_by("try_number")
    )
    assert [t.state for t in tries] == ["up_for_retry", "up_for_retry", "failed"]
    # Until the retry is queued: when it starts after that is the executor's (a pod's start
    # takes seconds on a real cluster), not the backoff's.
    first_wait = (tries[1].queued_dttm - tries[0].end_date).total_seconds()
    second_wait = (tries[2].queued_dttm - tries[1].end_date).total_seconds()
    # Airflow: between delay*2**(n-1) and twice that, capped by max_retry_delay.
    assert 1 <= first_wait < 2 + 1.5
    assert 2 <= second_wait < 3 + 1.5


def test_a_task_running_past_its_execution_timeout_is_killed_and_fails(engine):
    engine.add(
        "slow.py",
        """
        with DAG("slow", schedule=None, start_date=START) as dag:
            BashOperator(task_id="slow", bash_command="sleep 60",
                         execution_timeout=timedelta(seconds=1))
        """,
    )
    engine.parse()
    run = engine.run_dag("slow", timeout=30)
    ti = engine.ti(run, "slow")
    assert ti.state == "failed"
    assert ti.duration < 15


def test_a_dag_run_past_its_timeout_fails_and_its_unfinished_tasks_are_skipped(engine):
    engine.add(
        "dagrun_timeout.py",
        """
        with DAG("dagrun_timeout", schedule=None, start_date=START,
                 dagrun_timeout=timedelta(seconds=2)) as dag:
            BashOperator(task_id="long", bash_command="sleep 60") >> EmptyOperator(task_id="after")
        """,
    )
    engine.parse()
    run = engine.run_dag("dagrun_timeout", timeout=30)
    assert run.state == "failed"
    assert engine.states(run) == {"long": "skipped", "after": "skipped"}
