"""Backfills through the real processor, scheduler, local executor and runner processes: every
run of the backfill succeeds with run_type backfill, never more than its max_active_runs run at
once, depends_on_past holds across its runs, and a cancelled backfill makes and starts no
further run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import BackfillRequest, do_cancel_backfill, do_create_backfill
from dagruns.models import Backfill, DagRun, TaskInstance

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor(name="e2e")


def day(d: int) -> datetime:
    return datetime(2024, 1, d, tzinfo=UTC)


def backfill(dag_id: str, first: int, last: int, **kw) -> Backfill:
    return do_create_backfill(BackfillRequest(dag_id, day(first), day(last), **kw), ACTOR)


def running_backfill_runs(b: Backfill) -> int:
    return DagRun.objects.filter(backfill=b, state="running").count()


def test_every_run_succeeds_as_a_backfill_run_never_more_than_max_active_runs_at_once(
    engine, tmp_path
):
    ledger = tmp_path / "ledger"
    engine.add(
        "daily.py",
        f"""
        with DAG("daily", schedule="@daily", start_date=START, catchup=False) as dag:
            BashOperator(task_id="work",
                bash_command="sleep 0.3; echo {{{{ ds }}}} >> {ledger}") >> \\
                BashOperator(task_id="after", bash_command="true")
        """,
    )
    engine.parse()
    b = backfill("daily", 1, 6, max_active_runs=2)
    most = 0

    def finished(_report) -> bool:
        nonlocal most
        most = max(most, running_backfill_runs(b))
        return Backfill.objects.get(pk=b.pk).completed_at is not None

    assert engine.scheduler().run_until(finished, timeout=120), engine.describe(
        list(DagRun.objects.values_list("pk", flat=True))
    )
    runs = DagRun.objects.filter(backfill=b).order_by("logical_date")
    assert [r.logical_date for r in runs] == [day(d) for d in range(1, 7)]
    assert {(r.run_type, r.triggered_by, r.state) for r in runs} == {
        ("backfill", "backfill", "success")
    }
    assert set(
        TaskInstance.objects.filter(dag_run__backfill=b).values_list("state", flat=True)
    ) == {"success"}
    # (catchup=False: the scheduler also makes today's scheduled run; it is not the backfill's)
    backfilled = [ds for ds in ledger.read_text().split() if ds.startswith("2024")]
    assert sorted(backfilled) == [f"2024-01-0{d}" for d in range(1, 7)]
    assert most == 2  # both slots were used, never a third


def test_depends_on_past_runs_each_date_after_the_previous_one_succeeded(engine, tmp_path):
    ledger = tmp_path / "ledger"
    engine.add(
        "chained.py",
        f"""
        with DAG("chained", schedule="@daily", start_date=START, catchup=False) as dag:
            BashOperator(task_id="step", depends_on_past=True,
                bash_command="echo start {{{{ ds }}}} >> {ledger}; sleep 0.2; "
                             "echo end {{{{ ds }}}} >> {ledger}")
        """,
    )
    engine.parse()
    b = backfill("chained", 1, 4, max_active_runs=4, reprocess_behavior="failed")
    assert engine.scheduler().run_until(
        lambda _r: Backfill.objects.get(pk=b.pk).completed_at is not None, timeout=120
    )
    lines = [line for line in ledger.read_text().splitlines() if "2024" in line]
    # Each date starts only once the previous date's try ended: strictly one after another.
    assert lines == [f"{what} 2024-01-0{d}" for d in range(1, 5) for what in ("start", "end")]
    assert set(DagRun.objects.filter(backfill=b).values_list("state", flat=True)) == {"success"}


def test_cancel_stops_making_and_starting_runs_and_the_running_one_finishes(engine, tmp_path):
    release = tmp_path / "release"
    engine.add(
        "held.py",
        f"""
        with DAG("held", schedule="@daily", start_date=START, catchup=False) as dag:
            BashOperator(task_id="hold",
                bash_command="while [ ! -e {release} ]; do sleep 0.05; done")
        """,
    )
    engine.parse()
    b = backfill("held", 1, 5, max_active_runs=1)
    scheduler = engine.scheduler()
    scheduler.executor.start()
    deadline = time.monotonic() + 60
    while not TaskInstance.objects.filter(dag_run__backfill=b, state="running").exists():
        assert time.monotonic() < deadline, "the first backfill run's task never started"
        scheduler.run_once()
        time.sleep(0.02)
    do_cancel_backfill(b.pk, ACTOR)
    release.touch()
    first = DagRun.objects.get(backfill=b)
    engine.run(first)
    # Every tick had the chance to make or start another run of the backfill: none may.
    for _ in range(30):
        scheduler.run_once()
    assert list(DagRun.objects.filter(backfill=b).values_list("logical_date", "state")) == [
        (day(1), "success")
    ]
    assert b.date_rows.filter(dag_run=None, exception_reason="").count() == 4
