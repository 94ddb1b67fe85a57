"""Backfills: the checks Airflow makes (each refusal names the problem), the dry run's dates and
decisions, creation of the plan, and the runs the scheduler's call makes from it: bounded by
max_active_runs, in order, reprocessing existing runs as asked; pause, unpause, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import (
    AlreadyRunningBackfill,
    BackfillCompleted,
    BackfillNotFound,
    BackfillRefused,
    BackfillRequest,
    do_cancel_backfill,
    do_create_backfill,
    do_dry_run_backfill,
    do_make_backfill_runs,
    do_pause_backfill,
    do_unpause_backfill,
)
from dagruns.actions.dags import DagNotFound
from dagruns.models import AuditEvent, Backfill, BackfillDagRunMap, DagRun, TaskInstance
from dagruns.sdk import DAG, EmptyOperator, Param
from tests.builders import store

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")
JAN = [datetime(2024, 1, d, tzinfo=UTC) for d in range(1, 32)]


def daily(dag_id="etl", schedule="@daily", depends_on_past=False, params=None, paused=False):
    with DAG(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        params=params or {},
    ) as dag:
        EmptyOperator(task_id="a", depends_on_past=depends_on_past) >> EmptyOperator(task_id="b")
    return store(dag, paused=paused)


def request(**kw) -> BackfillRequest:
    fields = {"dag_id": "etl", "from_date": JAN[0], "to_date": JAN[4]}
    fields.update(kw)
    return BackfillRequest(**fields)


def test_a_dry_run_lists_each_date_with_what_would_happen_and_changes_nothing():
    dag = daily()
    version = dag.latest_version()
    for day, state in ((1, "success"), (2, "failed"), (3, "running")):
        DagRun.objects.create(
            dag=dag, run_id=f"r{day}", run_type="scheduled", state=state,
            logical_date=JAN[day], run_after=JAN[day], dag_version=version,
        )  # fmt: skip
    outcomes = {
        behavior: [
            r.outcome for r in do_dry_run_backfill(request(reprocess_behavior=behavior)).runs
        ]
        for behavior in ("none", "failed", "completed")
    }
    assert outcomes == {
        "none": ["create", "already exists", "already exists", "in flight", "create"],
        "failed": ["create", "already exists", "clear", "in flight", "create"],
        "completed": ["create", "clear", "clear", "in flight", "create"],
    }
    plan = do_dry_run_backfill(request())
    assert [r.logical_date for r in plan.runs] == JAN[:5]
    assert plan.runs[1].existing_run_id == "r1" and plan.runs[1].existing_state == "success"
    assert not Backfill.objects.exists() and DagRun.objects.count() == 3


def test_run_backwards_lists_the_newest_date_first():
    daily()
    plan = do_dry_run_backfill(request(run_backwards=True))
    assert [r.logical_date for r in plan.runs] == JAN[4::-1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"from_date": JAN[5], "to_date": JAN[1]}, "must not be after to_date"),
        (
            {"from_date": datetime.now(UTC) + timedelta(days=1),
             "to_date": datetime.now(UTC) + timedelta(days=3)},
            "cannot be executed for future dates",
        ),
        ({"reprocess_behavior": "sometimes"}, "reprocess_behavior 'sometimes' is not one of"),
        ({"max_active_runs": 0}, "max_active_runs must be a whole number of at least 1"),
        ({"dag_run_conf": {"n": "x"}}, "dag_run_conf"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_it(change, message):
    daily(params={"n": Param(1, type="integer")})
    with pytest.raises(BackfillRefused, match=message):
        do_dry_run_backfill(request(**change))
    with pytest.raises(BackfillRefused, match=message):
        do_create_backfill(request(**change), ACTOR)
    assert not Backfill.objects.exists()


def test_a_dag_without_a_schedule_is_refused():
    daily(schedule=None)
    with pytest.raises(BackfillRefused, match="non-periodic schedule that does not support"):
        do_create_backfill(request(), ACTOR)


def test_an_unknown_dag_is_refused():
    with pytest.raises(DagNotFound, match="'nope'"):
        do_dry_run_backfill(request(dag_id="nope"))


def test_depends_on_past_refuses_running_backwards_and_reprocess_none():
    daily(depends_on_past=True)
    with pytest.raises(BackfillRefused, match="cannot be run in reverse"):
        do_dry_run_backfill(request(run_backwards=True, reprocess_behavior="completed"))
    with pytest.raises(BackfillRefused, match="You must set reprocess_behavior"):
        do_dry_run_backfill(request(reprocess_behavior="none"))
    assert len(do_dry_run_backfill(request(reprocess_behavior="failed")).runs) == 5


def test_a_second_backfill_of_the_dag_is_refused_while_the_first_is_active():
    daily()
    first = do_create_backfill(request(), ACTOR)
    with pytest.raises(AlreadyRunningBackfill, match="Another backfill is running for DAG etl"):
        do_create_backfill(request(from_date=JAN[10], to_date=JAN[12]), ACTOR)
    do_cancel_backfill(first.pk, ACTOR)
    assert do_create_backfill(request(from_date=JAN[10], to_date=JAN[12]), ACTOR).pk


def test_creation_writes_the_plan_and_makes_runs_only_up_to_max_active_runs():
    daily()
    backfill = do_create_backfill(request(max_active_runs=2, dag_run_conf={"k": 1}), ACTOR)
    assert DagRun.objects.count() == 0
    assert (
        list(backfill.date_rows.order_by("sort_ordinal").values_list("logical_date", flat=True))
        == JAN[:5]
    )
    assert AuditEvent.objects.filter(event="backfill").count() == 1
    now = datetime.now(UTC)
    assert do_make_backfill_runs(backfill.pk, now) == 2
    assert do_make_backfill_runs(backfill.pk, now) == 0  # two unfinished: no room
    runs = list(DagRun.objects.order_by("logical_date"))
    assert [
        (r.logical_date, r.run_type, r.triggered_by, r.state, r.backfill_id, r.conf) for r in runs
    ] == [
        (JAN[0], "backfill", "backfill", "queued", backfill.pk, {"k": 1}),
        (JAN[1], "backfill", "backfill", "queued", backfill.pk, {"k": 1}),
    ]
    assert runs[0].run_id == "backfill__2024-01-01T00:00:00+00:00"
    # Airflow 3 default: @daily is a CronTriggerTimetable, whose runs cover their moment.
    assert (runs[0].data_interval_start, runs[0].data_interval_end) == (JAN[0], JAN[0])
    assert TaskInstance.objects.filter(dag_run=runs[0]).count() == 2
    DagRun.objects.filter(pk=runs[0].pk).update(state="success")
    assert do_make_backfill_runs(backfill.pk, now) == 1
    assert DagRun.objects.filter(logical_date=JAN[2]).exists()


def test_existing_runs_are_skipped_or_cleared_by_reprocess_behavior():
    dag = daily()
    version = dag.latest_version()
    for day, state in ((0, "success"), (1, "failed")):
        DagRun.objects.create(
            dag=dag, run_id=f"r{day}", run_type="scheduled", state=state,
            logical_date=JAN[day], run_after=JAN[day], dag_version=version,
        )  # fmt: skip
    backfill = do_create_backfill(
        request(to_date=JAN[1], reprocess_behavior="failed", max_active_runs=5), ACTOR
    )
    assert do_make_backfill_runs(backfill.pk, datetime.now(UTC)) == 1
    rows = list(BackfillDagRunMap.objects.order_by("sort_ordinal"))
    assert [(r.dag_run_id is not None, r.exception_reason) for r in rows] == [
        (False, "already exists"),
        (True, ""),
    ]
    cleared = DagRun.objects.get(run_id="r1")
    assert (cleared.state, cleared.run_type, cleared.backfill_id) == (
        "queued",
        "backfill",
        backfill.pk,
    )
    assert cleared.clear_number == 1


def test_it_completes_when_every_date_is_done_and_its_runs_finished():
    daily()
    backfill = do_create_backfill(request(to_date=JAN[1]), ACTOR)
    now = datetime.now(UTC)
    assert do_make_backfill_runs(backfill.pk, now) == 2
    assert do_make_backfill_runs(backfill.pk, now) == 0
    assert Backfill.objects.get().completed_at is None
    DagRun.objects.update(state="success")
    do_make_backfill_runs(backfill.pk, now)
    assert Backfill.objects.get().completed_at == now


def test_a_paused_backfill_makes_no_runs_until_unpaused():
    daily()
    backfill = do_create_backfill(request(), ACTOR)
    assert do_pause_backfill(backfill.pk, ACTOR).is_paused
    assert do_make_backfill_runs(backfill.pk, datetime.now(UTC)) == 0
    assert not do_unpause_backfill(backfill.pk, ACTOR).is_paused
    assert do_make_backfill_runs(backfill.pk, datetime.now(UTC)) == 5


def test_cancel_fails_queued_runs_completes_it_and_stops_making_runs():
    daily()
    backfill = do_create_backfill(request(max_active_runs=2), ACTOR)
    do_make_backfill_runs(backfill.pk, datetime.now(UTC))
    DagRun.objects.filter(logical_date=JAN[0]).update(state="running")
    cancelled = do_cancel_backfill(backfill.pk, ACTOR)
    assert cancelled.is_paused and cancelled.completed_at is not None
    assert dict(DagRun.objects.values_list("logical_date", "state")) == {
        JAN[0]: "running",
        JAN[1]: "failed",
    }
    DagRun.objects.update(state="success")
    assert do_make_backfill_runs(backfill.pk, datetime.now(UTC)) == 0
    assert DagRun.objects.count() == 2
    for action in (do_cancel_backfill, do_pause_backfill, do_unpause_backfill):
        with pytest.raises(BackfillCompleted, match="already completed"):
            action(backfill.pk, ACTOR)


def test_an_unknown_backfill_is_named():
    with pytest.raises(BackfillNotFound, match="id 42"):
        do_pause_backfill(42, ACTOR)


def test_ten_thousand_dates_are_planned_in_one_step_and_made_a_few_at_a_time():
    daily(schedule="@hourly")
    big = request(
        from_date=datetime(2022, 1, 1, tzinfo=UTC), to_date=datetime(2023, 3, 1, tzinfo=UTC)
    )
    assert len(do_dry_run_backfill(big).runs) > 10_000
    backfill = do_create_backfill(big, ACTOR)
    assert backfill.date_rows.count() > 10_000
    assert do_make_backfill_runs(backfill.pk, datetime.now(UTC)) == 10  # Airflow's default limit
    assert DagRun.objects.count() == 10


def test_a_range_over_the_limit_is_refused_naming_the_limit(monkeypatch):
    from dagruns.actions import backfills

    monkeypatch.setattr(backfills, "MAX_BACKFILL_RUNS", 3)
    daily()
    with pytest.raises(BackfillRefused, match="more than 3 runs of DAG etl"):
        do_dry_run_backfill(request())
