"""Schedules (catchup on and off) and depends_on_past, run for real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from dagruns.models import DagRun, TaskInstance

pytestmark = pytest.mark.django_db(transaction=True)


def _days_ago(n: int) -> str:
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=n) + timedelta(hours=1)
    return f"datetime({start.year}, {start.month}, {start.day}, 1)"


def _run_scheduler_until(engine, dag_id: str, runs: int, timeout: float = 60):
    def done(_report):
        finished = DagRun.objects.filter(dag_id=dag_id, state__in=["success", "failed"]).count()
        return finished >= runs

    assert engine.scheduler().run_until(done, timeout=timeout)


def test_catchup_creates_and_runs_every_missed_interval(engine):
    engine.add(
        "catchup.py",
        f"""
        with DAG("catchup", schedule="@daily", start_date={_days_ago(3)}, catchup=True) as dag:
            EmptyOperator(task_id="t") >> BashOperator(task_id="b", bash_command="echo {{{{ ds }}}}")
        """,
    )
    engine.parse()
    _run_scheduler_until(engine, "catchup", runs=3)
    runs = list(DagRun.objects.filter(dag_id="catchup").order_by("logical_date"))
    assert len(runs) == 3 and all(r.run_type == "scheduled" for r in runs)
    assert [r.logical_date.date() for r in runs] == [
        (timezone.now() - timedelta(days=d)).date() for d in (2, 1, 0)
    ]


def test_without_catchup_only_the_latest_interval_runs(engine):
    engine.add(
        "nocatchup.py",
        f"""
        with DAG("nocatchup", schedule="@daily", start_date={_days_ago(5)}, catchup=False) as dag:
            EmptyOperator(task_id="t")
        """,
    )
    engine.parse()
    _run_scheduler_until(engine, "nocatchup", runs=1)
    engine.scheduler().run_once()
    runs = list(DagRun.objects.filter(dag_id="nocatchup"))
    assert len(runs) == 1
    assert runs[0].logical_date.date() == timezone.now().date()


def test_depends_on_past_waits_for_the_previous_run_to_succeed(engine):
    engine.add(
        "dop.py",
        """
        def work(dag_run=None):
            if dag_run.conf.get("fail"):
                raise RuntimeError("asked to fail")

        with DAG("dop", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=work, depends_on_past=True)
        """,
    )
    engine.parse()
    first = engine.run_dag("dop", run_id="first", conf={"fail": True})
    assert engine.states(first) == {"t": "failed"}
    second = engine.trigger("dop", run_id="second")
    scheduler = engine.scheduler()
    for _ in range(20):
        scheduler.run_once()
    assert engine.states(second) == {"t": None}  # waiting on the past, not a deadlock
    second.refresh_from_db()
    assert second.state == "running"
    # Once the past is put right, the waiting task runs.
    TaskInstance.objects.filter(dag_run=first).update(state="success")
    engine.run(second)
    assert engine.states(second) == {"t": "success"}


def _months_ago(n: int):
    """Midnight UTC on the first of the month `n` months before this one."""
    first = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first - relativedelta(months=n)


def test_a_relativedelta_schedule_steps_by_the_calendar(engine):
    """Airflow accepts a relativedelta wherever a timedelta schedule goes: as `schedule=` (a
    DeltaTriggerTimetable by default, as a timedelta) and in DeltaDataIntervalTimetable,
    whose windows are then whole calendar months."""
    start = _months_ago(2)
    engine.add(
        "monthly.py",
        f"""
        from dateutil.relativedelta import relativedelta
        from airflow.timetables.interval import DeltaDataIntervalTimetable

        START = datetime({start.year}, {start.month}, 1)
        with DAG("monthly", schedule=relativedelta(months=1), start_date=START, catchup=True):
            EmptyOperator(task_id="t")
        with DAG("monthly_windows", schedule=DeltaDataIntervalTimetable(relativedelta(months=1)),
                 start_date=START, catchup=True):
            EmptyOperator(task_id="t")
        """,
    )
    engine.parse()
    _run_scheduler_until(engine, "monthly", runs=3)
    _run_scheduler_until(engine, "monthly_windows", runs=2)
    firsts = [_months_ago(n) for n in (2, 1, 0)]
    monthly = DagRun.objects.filter(dag_id="monthly").order_by("logical_date")
    assert [r.logical_date for r in monthly] == firsts
    windows = DagRun.objects.filter(dag_id="monthly_windows").order_by("logical_date")
    assert [(r.data_interval_start, r.data_interval_end) for r in windows] == [
        (firsts[0], firsts[1]),
        (firsts[1], firsts[2]),
    ]
