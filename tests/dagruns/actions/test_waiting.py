"""Why a task instance waits: one answer (actions/waiting.py) for the task page and the REST
dependencies endpoint, named as Airflow's ti_deps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.waiting import why_waiting
from dagruns.api.rest.dependencies import failed_dependencies
from dagruns.models import DagModel, DagRun, Pool, TaskInstance
from dagruns.models.states import DagRunState, TaskInstanceState
from dagruns.ui.deps import explain
from tests.builders import make_run, set_state, ti_of

pytestmark = pytest.mark.django_db
TIS = TaskInstanceState


def names(ti: TaskInstance) -> list[str]:
    return sorted(r.name for r in why_waiting(ti))


def test_a_task_waiting_for_a_running_upstream_says_which():
    run = make_run()
    set_state(ti_of(run, "extract"), TIS.RUNNING)
    load = ti_of(run, "load")
    assert names(load) == ["Trigger Rule"]
    (rule,) = why_waiting(load)
    assert rule.pending_upstream == (("extract", TIS.RUNNING),)
    assert "upstream extract is running" in rule.reason


def test_a_paused_dag_and_a_queued_run_are_reasons():
    run = make_run()
    DagModel.objects.filter(dag_id="etl").update(is_paused=True)
    DagRun.objects.filter(pk=run.pk).update(state=DagRunState.QUEUED)
    assert names(ti_of(run, "extract")) == ["Dag Not Paused", "Dagrun Running"]


def test_a_sensor_waiting_for_its_reschedule_says_when_and_that_the_try_stays():
    run = make_run()
    ti = set_state(ti_of(run, "extract"), TIS.UP_FOR_RESCHEDULE)
    TaskInstance.objects.filter(pk=ti.pk).update(
        try_number=1, next_retry_at=timezone.now() + timedelta(hours=1)
    )
    (reason,) = why_waiting(ti_of(run, "extract"))
    assert reason.name == "Ready To Reschedule"
    assert "will be rescheduled automatically" in reason.reason
    assert "(same try 1)" in reason.reason
    TaskInstance.objects.filter(pk=ti.pk).update(next_retry_at=timezone.now())
    (reason,) = why_waiting(ti_of(run, "extract"))
    assert reason.reason == "Task is ready for reschedule: the scheduler picks it up next."


def test_a_try_waiting_for_its_retry_says_when():
    run = make_run()
    ti = set_state(ti_of(run, "extract"), TIS.UP_FOR_RETRY)
    TaskInstance.objects.filter(pk=ti.pk).update(next_retry_at=timezone.now() + timedelta(hours=1))
    (reason,) = why_waiting(ti_of(run, "extract"))
    assert reason.name == "Not In Retry Period" and "will be retried automatically" in reason.reason


def test_a_task_naming_an_executor_that_is_not_configured_says_so(orch_settings):
    orch_settings.executor = "local"
    run = make_run(settings={"load": {"executor": "celery"}})
    load = set_state(ti_of(run, "load"), TIS.SCHEDULED)
    set_state(ti_of(run, "extract"), TIS.SUCCESS)
    (reason,) = why_waiting(load)
    assert reason.name == "Executor Configured" and reason.code == "celery"
    assert reason.reason == (
        "Task asks for executor celery which is not configured (ORCH_EXECUTOR=local): "
        "it stays scheduled until it is."
    )
    orch_settings.executor = "local,celery"
    assert why_waiting(load) == []


def test_a_missing_pool_and_a_full_pool_are_named():
    run = make_run()
    extract = ti_of(run, "extract")
    TaskInstance.objects.filter(pk=extract.pk).update(pool="gone")
    assert "non-existent pool 'gone'" in why_waiting(ti_of(run, "extract"))[0].reason
    Pool.objects.create(name="tiny", slots=1)
    TaskInstance.objects.filter(pk=extract.pk).update(pool="tiny", state=TIS.RUNNING)
    load = ti_of(run, "load")
    TaskInstance.objects.filter(pk=load.pk).update(pool="tiny", state=TIS.SCHEDULED)
    set_state(extract, TIS.SUCCESS)
    TaskInstance.objects.filter(pk=extract.pk).update(state=TIS.RUNNING)
    reasons = why_waiting(ti_of(run, "load"))
    assert [r.name for r in reasons if r.name == "Pool Slots Available"]
    assert "0 open slots in pool tiny" in " ".join(r.reason for r in reasons)


def test_a_running_task_waits_for_nothing():
    run = make_run()
    assert why_waiting(set_state(ti_of(run, "extract"), TIS.RUNNING)) == []


def test_the_page_and_the_rest_api_give_the_same_reasons():
    run = make_run()
    DagModel.objects.filter(dag_id="etl").update(is_paused=True)
    set_state(ti_of(run, "extract"), TIS.RUNNING)
    load = ti_of(run, "load")
    rest = failed_dependencies(load)
    page = explain(load, run, DagModel.objects.get(dag_id="etl"), structure=None)
    assert [d["name"] for d in rest] == ["Dag Not Paused", "Trigger Rule"]
    assert [(r.before, r.code, r.after) for r in page] == [
        ("Task's DAG '", "etl", "' is paused."),
        ("waiting because upstream ", "extract", " is running"),
    ]


def test_rest_answers_only_before_the_task_is_queued_as_airflow():
    run = make_run()
    ti = set_state(ti_of(run, "extract"), TIS.QUEUED)
    assert failed_dependencies(ti) == []
    assert [r.name for r in why_waiting(ti)] == ["Task Instance State"]
