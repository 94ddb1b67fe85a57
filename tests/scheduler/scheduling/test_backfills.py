"""The scheduler's part in backfills, with a recording executor: it makes and starts a
backfill's runs at most max_active_runs at a time, apart from the DAG's own limit, in the
backfill's order, and never while the backfill or its DAG is paused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import BackfillRequest, do_create_backfill, do_pause_backfill
from dagruns.models import DagModel, DagRun
from dagruns.sdk import DAG, PythonOperator
from scheduler.scheduling.backfills import start_queued_backfill_runs
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def noop():
    return None


def day(d: int) -> datetime:
    return datetime(2024, 1, d, tzinfo=UTC)


def backfill_of(max_active_runs: int, *, dag_max_active_runs: int = 16, backwards=False):
    with DAG(
        "bf",
        schedule="@daily",
        start_date=START,
        catchup=False,
        max_active_runs=dag_max_active_runs,
    ) as dag:
        PythonOperator(task_id="a", python_callable=noop)
    store(dag)
    return do_create_backfill(
        BackfillRequest("bf", day(1), day(6), max_active_runs=max_active_runs,
                        run_backwards=backwards),
        ACTOR,
    )  # fmt: skip


def running_dates() -> list[datetime]:
    return sorted(DagRun.objects.filter(state="running").values_list("logical_date", flat=True))


def test_a_tick_starts_at_most_max_active_runs_of_the_backfill_in_its_order():
    backfill_of(2, backwards=True)
    scheduler = Scheduler(executor=RecordingExecutor())
    scheduler.run_once()
    assert running_dates() == [day(5), day(6)]
    scheduler.run_once()
    assert running_dates() == [day(5), day(6)] and DagRun.objects.count() == 2
    DagRun.objects.filter(logical_date=day(6)).update(state="success")
    scheduler.run_once()
    scheduler.run_once()
    assert running_dates() == [day(4), day(5)]


def test_the_backfill_limit_applies_apart_from_the_dags_max_active_runs():
    backfill_of(3, dag_max_active_runs=1)
    Scheduler(executor=RecordingExecutor()).run_once()
    assert running_dates() == [day(1), day(2), day(3)]
    assert set(DagRun.objects.values_list("run_type", flat=True)) == {"backfill"}


def test_nothing_is_made_or_started_while_the_dag_is_paused():
    backfill_of(2)
    DagModel.objects.update(is_paused=True)
    Scheduler(executor=RecordingExecutor()).run_once()
    assert DagRun.objects.count() == 0


def test_queued_runs_of_a_paused_backfill_do_not_start():
    backfill = backfill_of(2)
    from dagruns.actions.backfills import do_make_backfill_runs

    do_make_backfill_runs(backfill.pk, datetime.now(UTC))
    do_pause_backfill(backfill.pk, ACTOR)
    assert start_queued_backfill_runs(datetime.now(UTC)) == 0
    assert set(DagRun.objects.values_list("state", flat=True)) == {"queued"}
