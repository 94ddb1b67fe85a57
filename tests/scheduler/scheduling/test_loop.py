"""The scheduler tick with a recording executor: what gets created, scheduled and queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.models import DagRun, Pool, TaskInstance
from dagruns.sdk import DAG, EmptyOperator, Param, PythonOperator
from scheduler.scheduling.loop import Scheduler
from tests.builders import START, RecordingExecutor, store

pytestmark = pytest.mark.django_db


def noop():
    return None


def py(task_id, **kw):
    return PythonOperator(task_id=task_id, python_callable=noop, **kw)


def states(run) -> dict:
    return dict(TaskInstance.objects.filter(dag_run=run).values_list("task_id", "state"))


def trigger(dag_id, **kw):
    return do_trigger_dag(dag_id, Actor(name="test"), **kw)


def test_a_triggered_run_queues_its_first_task_only():
    with DAG("chain", schedule=None, start_date=START) as dag:
        py("a") >> py("b")
    store(dag)
    run = trigger("chain")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert executor.queued_task_ids() == ["a"]
    assert states(run) == {"a": "queued", "b": None}
    run.refresh_from_db()
    assert run.state == "running"


def test_the_workload_carries_a_token_for_its_try():
    from dagruns.domain.tokens import verify_token

    with DAG("one", schedule=None, start_date=START) as dag:
        py("a")
    store(dag)
    trigger("one")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    workload = executor.workloads[0]
    claims = verify_token(workload.token)
    assert str(claims.ti_id) == workload.ti_id and claims.try_number == 1
    assert workload.dag_fileloc == "/dags/test.py"


def test_the_workload_carries_the_pinned_versions_file_hash():
    from dagruns.models import DagVersion

    for dag_id in ("hashed", "unhashed"):
        with DAG(dag_id, schedule=None, start_date=START) as dag:
            py("a")
        store(dag)
        trigger(dag_id)
    DagVersion.objects.filter(dag_id="hashed").update(source_hash="ab" * 32)
    DagVersion.objects.filter(dag_id="unhashed").update(source_hash="")  # an old row: unknown
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    hashes = {w.dag_id: w.dag_source_hash for w in executor.workloads}
    assert hashes == {"hashed": "ab" * 32, "unhashed": None}


def test_empty_operators_succeed_without_an_executor():
    with DAG("empties", schedule=None, start_date=START) as dag:
        EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
    store(dag)
    run = trigger("empties")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert executor.workloads == []
    assert states(run) == {"start": "success", "end": "success"}
    run.refresh_from_db()
    assert run.state == "success"


def test_paused_dags_do_not_start_their_runs_but_keep_them_queued():
    with DAG("paused", schedule=None, start_date=START) as dag:
        py("a")
    store(dag, paused=True)
    run = trigger("paused")
    Scheduler(executor=RecordingExecutor()).run_once()
    run.refresh_from_db()
    assert run.state == "queued"


def test_max_active_tasks_limits_queueing_per_dag():
    with DAG("wide", schedule=None, start_date=START, max_active_tasks=3) as dag:
        for i in range(10):
            py(f"t{i}")
    store(dag)
    trigger("wide")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert len(executor.workloads) == 3


def test_parallelism_limits_queueing_overall():
    with DAG("wide", schedule=None, start_date=START, max_active_tasks=50) as dag:
        for i in range(10):
            py(f"t{i}")
    store(dag)
    trigger("wide")
    executor = RecordingExecutor(parallelism=4)
    Scheduler(executor=executor).run_once()
    assert len(executor.workloads) == 4


def test_pool_slots_limit_queueing_and_priority_orders_it():
    Pool.objects.create(name="small", slots=3)
    with DAG("pooled", schedule=None, start_date=START, max_active_tasks=50) as dag:
        py("low", pool="small", priority_weight=1)
        py("high", pool="small", priority_weight=10)
        py("big", pool="small", pool_slots=2, priority_weight=5)
        py("mid", pool="small", priority_weight=3)
    store(dag)
    trigger("pooled")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    # high (1 slot) then big (2 slots) fill the 3 slots; mid and low wait.
    assert executor.queued_task_ids() == ["high", "big"]


def test_an_unknown_pool_makes_the_task_wait():
    with DAG("nopool", schedule=None, start_date=START) as dag:
        py("a", pool="does_not_exist")
    store(dag)
    run = trigger("nopool")
    executor = RecordingExecutor()
    Scheduler(executor=executor).run_once()
    assert executor.workloads == [] and states(run) == {"a": "scheduled"}


def test_max_active_runs_keeps_extra_runs_queued():
    with DAG("limited", schedule=None, start_date=START, max_active_runs=1) as dag:
        py("a")
    store(dag)
    first = trigger("limited", run_id="first")
    second = trigger("limited", run_id="second")
    Scheduler(executor=RecordingExecutor()).run_once()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("running", "queued")


def test_trigger_conf_that_violates_the_params_schema_is_rejected_before_a_run_exists():
    with DAG(
        "params", schedule=None, start_date=START, params={"n": Param(1, type="integer", minimum=1)}
    ) as dag:
        py("a")
    store(dag)
    with pytest.raises(TriggerError, match="n"):
        trigger("params", conf={"n": "not a number"})
    assert not DagRun.objects.exists()


def test_a_scheduled_dag_gets_its_latest_run_with_catchup_off():
    with DAG("daily", schedule="@daily", start_date=START, catchup=False) as dag:
        py("a")
    model = store(dag)
    from dagruns.domain.schedule_info import schedule_fields

    now = timezone.now()
    fields = schedule_fields(model.latest_version().serialized, now, None)
    type(model).objects.filter(pk=model.pk).update(**fields)
    Scheduler(executor=RecordingExecutor()).run_once(now)
    runs = list(DagRun.objects.filter(dag=model))
    assert len(runs) == 1 and runs[0].run_type == "scheduled"
    assert runs[0].logical_date.date() == now.date()


def test_catchup_creates_every_missed_run_one_per_tick():
    # One hour after midnight three days ago: the trigger timetable fires at the three
    # midnights since then (two days ago, yesterday, today).
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=3) + timedelta(hours=1)
    with DAG(
        "catchup",
        schedule="@daily",
        start_date=start.replace(tzinfo=None),
        catchup=True,
        max_active_runs=10,
    ) as dag:
        py("a")
    model = store(dag)
    from dagruns.domain.schedule_info import schedule_fields

    now = timezone.now()
    type(model).objects.filter(pk=model.pk).update(
        **schedule_fields(model.latest_version().serialized, now, None)
    )
    scheduler = Scheduler(executor=RecordingExecutor())
    for _ in range(6):
        scheduler.run_once(now)
    assert DagRun.objects.filter(dag=model).count() == 3


@pytest.mark.parametrize("run_id", ["a/b", "with space", "<script>", "x" * 251, ""])
def test_a_run_id_outside_airflows_allowed_pattern_is_refused(run_id):
    with DAG("ids", schedule=None, start_date=START) as dag:
        py("a")
    store(dag)
    with pytest.raises(TriggerError, match="not allowed"):
        trigger("ids", run_id=run_id)
    assert not DagRun.objects.exists()


def test_a_run_id_with_plus_and_colon_is_fine():
    with DAG("ids", schedule=None, start_date=START) as dag:
        py("a")
    store(dag)
    assert trigger("ids", run_id="manual__2024-01-01T00:00:00+00:00").run_id.endswith("+00:00")
