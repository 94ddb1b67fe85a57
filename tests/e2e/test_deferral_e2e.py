"""Deferrable tasks end to end: the real scheduler and executor run a task that defers, a real
`manage.py triggerer` process (with its trigger runner child) runs the trigger, and a new
runner resumes the same try at `method_name` with the event — or fails it when the trigger
raises, times out or cannot be imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, TaskInstanceHistory, Trigger, XCom
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import start_engine_triggerer
from tests.processes import stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TRIGGERS_MODULE = """
import asyncio
from dagruns.sdk import BaseTrigger, TriggerEvent


class RaisingTrigger(BaseTrigger):
    def serialize(self):
        return ("deferral_triggers.RaisingTrigger", {})

    async def run(self):
        raise RuntimeError("the external system said no")
        yield  # an async generator


class SilentTrigger(BaseTrigger):
    def serialize(self):
        return ("deferral_triggers.SilentTrigger", {})

    async def run(self):
        while True:
            await asyncio.sleep(3600)
        yield
"""

DAG = """
import sys
from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger
from deferral_triggers import RaisingTrigger, SilentTrigger


class Waits(BaseOperator):
    def __init__(self, trigger, timeout=None, **kwargs):
        super().__init__(**kwargs)
        self.trigger = trigger
        self.timeout = timeout

    def execute(self, context):
        self.defer(
            trigger=self.trigger,
            method_name="finish",
            kwargs={"started_try": context["ti"].try_number},
            timeout=self.timeout,
        )

    def finish(self, context, event=None, started_try=None):
        return {"event": event.isoformat(), "started_try": started_try,
                "try": context["ti"].try_number}


class Unimportable(BaseTrigger):
    def serialize(self):
        return ("no_such_module.GoneTrigger", {"x": 1})

    async def run(self):
        yield


with DAG("deferring", schedule=None, start_date=START):
    Waits(task_id="waits", trigger=TimeDeltaTrigger(timedelta(seconds=1)))

with DAG("trigger_raises", schedule=None, start_date=START):
    Waits(task_id="waits", trigger=RaisingTrigger())

with DAG("trigger_times_out", schedule=None, start_date=START):
    Waits(task_id="waits", trigger=SilentTrigger(), timeout=timedelta(seconds=2))

with DAG("trigger_unimportable", schedule=None, start_date=START):
    Waits(task_id="waits", trigger=Unimportable())
"""


@pytest.fixture
def triggerer(engine: Engine, live_server, orch_settings) -> Iterator[None]:
    """One `manage.py triggerer` for the test."""
    (engine.folder / "deferral_triggers.py").write_text(TRIGGERS_MODULE)
    engine.add("deferring.py", DAG)
    engine.parse()
    proc = start_engine_triggerer(engine, live_server, orch_settings)
    try:
        yield
        assert proc.poll() is None, "the triggerer died"
    finally:
        stop(proc)


@pytest.mark.executor_sensitive
def test_a_deferred_task_resumes_at_its_method_with_the_event_in_the_same_try(engine, triggerer):
    run = engine.run_dag("deferring", timeout=120)
    ti = engine.ti(run, "waits")
    assert ti.state == "success"
    assert ti.try_number == 1
    value = XCom.objects.get(dag_run=run, task_id="waits").value
    # The TimeDeltaTrigger's payload is its moment, a datetime again in the resumed task.
    assert value["started_try"] == 1 and value["try"] == 1
    assert value["event"].endswith("+00:00")
    assert list(
        AuditEvent.objects.filter(run_id=run.run_id, task_id="waits")
        .order_by("pk")
        .values_list("event", flat=True)
    ) == ["running", "deferred", "running", "success"]
    assert TaskInstanceHistory.objects.filter(task_instance=ti).count() == 1
    assert not Trigger.objects.exists()
    log = ti_log_path(ti).read_text()
    assert "Pausing task as DEFERRED" in log and "Resuming" in log
    # The trigger's own lines, from the triggerer, between the two runners' lines.
    deferred_at, resumed_at = log.index("Pausing task as DEFERRED"), log.index("Resuming")
    assert deferred_at < log.index("[triggerer]") < log.index("trigger starting") < resumed_at


def test_a_trigger_that_raises_fails_the_task_with_its_traceback(engine, triggerer):
    run = engine.run_dag("trigger_raises", timeout=120)
    ti = engine.ti(run, "waits")
    assert ti.state == "failed"
    log = ti_log_path(ti).read_text()
    assert "Trigger failed" in log
    assert "RuntimeError: the external system said no" in log
    assert "TaskDeferralError: Trigger failure" in log


def test_a_trigger_that_never_fires_times_out_and_fails_the_task(engine, triggerer):
    run = engine.run_dag("trigger_times_out", timeout=120)
    ti = engine.ti(run, "waits")
    assert ti.state == "failed"
    assert "TaskDeferralTimeout: Trigger/execution timeout" in ti_log_path(ti).read_text()
    assert not Trigger.objects.exists()  # the triggerer's copy was deleted, so it stopped


def test_a_trigger_the_triggerer_cannot_import_fails_the_task_naming_its_classpath(
    engine, triggerer
):
    run = engine.run_dag("trigger_unimportable", timeout=120)
    ti = engine.ti(run, "waits")
    assert ti.state == "failed"
    log = ti_log_path(ti).read_text()
    assert "Could not load trigger 'no_such_module.GoneTrigger'" in log
    assert "No module named 'no_such_module'" in log
