"""start_from_trigger end to end: the scheduler defers a sensor straight to its start trigger,
a real `manage.py triggerer` runs it, and either the trigger ends the task (no runner ever
starts: the try's audit trail has no "running") or its event resumes `next_method` in a runner,
at the same try, with the event and the declared next_kwargs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, TaskInstanceHistory, Trigger, XCom
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import start_engine_triggerer
from tests.processes import stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAG = """
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import StartTriggerArgs

TRIGGER = "airflow.providers.standard.triggers.temporal.TimeDeltaTrigger"


class EndsInTriggerer(BaseSensorOperator):
    start_trigger_args = StartTriggerArgs(
        trigger_cls=TRIGGER,
        trigger_kwargs={"delta": timedelta(seconds=1), "end_from_trigger": True},
        next_method="execute_complete",
        next_kwargs=None,
        timeout=None,
    )
    start_from_trigger = True

    def poke(self, context):
        raise RuntimeError("poke must never run: the task starts in the triggerer")

    def execute_complete(self, context, event=None):
        raise RuntimeError("the trigger ends this task itself")


class ResumesInWorker(BaseSensorOperator):
    start_trigger_args = StartTriggerArgs(
        trigger_cls=TRIGGER,
        trigger_kwargs={"delta": timedelta(seconds=1)},
        next_method="execute_complete",
        next_kwargs={"note": "declared"},
        timeout=timedelta(minutes=10),
    )
    start_from_trigger = True

    def poke(self, context):
        raise RuntimeError("poke must never run: the task starts in the triggerer")

    def execute_complete(self, context, event=None, note=None):
        return {"event": event.isoformat(), "note": note, "try": context["ti"].try_number}


with DAG("starts_in_triggerer", schedule=None, start_date=START):
    EndsInTriggerer(task_id="ends") >> EmptyOperator(task_id="after")
    ResumesInWorker(task_id="resumes")
    DateTimeSensorAsync(
        task_id="standard", target_time="2020-01-01T00:00:00+00:00",
        start_from_trigger=True, end_from_trigger=True,
    )
"""


@pytest.fixture
def triggerer(engine: Engine, live_server, orch_settings) -> Iterator[None]:
    engine.add("starts_in_triggerer.py", DAG)
    engine.parse()
    proc = start_engine_triggerer(engine, live_server, orch_settings)
    try:
        yield
        assert proc.poll() is None, "the triggerer died"
    finally:
        stop(proc)


@pytest.mark.executor_sensitive
def test_sensors_start_in_the_triggerer_one_ending_there_one_resuming_in_a_worker(
    engine, triggerer
):
    run = engine.run_dag("starts_in_triggerer", timeout=120)
    assert engine.states(run) == {
        "ends": "success", "after": "success", "resumes": "success", "standard": "success",
    }  # fmt: skip

    def moves(task_id: str) -> list[tuple[str, str]]:
        events = AuditEvent.objects.filter(run_id=run.run_id, task_id=task_id).order_by("pk")
        return list(events.values_list("event", "owner"))

    # Started and ended without a runner: deferred by the scheduler, ended by the triggerer.
    assert moves("ends") == [("deferred", "scheduler"), ("success", "triggerer")]
    ends = engine.ti(run, "ends")
    assert ends.try_number == 1
    assert TaskInstanceHistory.objects.filter(task_instance=ends).count() == 1
    log = ti_log_path(ends).read_text()
    assert "Starting the task from the triggerer (start_from_trigger)" in log
    assert "Marking task as SUCCESS from the triggerer (end_from_trigger)" in log
    assert "must never run" not in log and "Resuming" not in log

    # Started in the triggerer, then one runner for next_method, at the same try.
    assert [event for event, _owner in moves("resumes")] == ["deferred", "running", "success"]
    value = XCom.objects.get(dag_run=run, task_id="resumes").value
    assert value["note"] == "declared" and value["try"] == 1
    assert value["event"].endswith("+00:00")  # the trigger's payload, a datetime again
    assert "must never run" not in ti_log_path(engine.ti(run, "resumes")).read_text()
    # The standard provider's sensor, as Airflow's: started and ended in the triggerer.
    assert moves("standard") == [("deferred", "scheduler"), ("success", "triggerer")]
    assert not Trigger.objects.exists()
