"""Deferrable tasks end to end: the real scheduler and executor run a task that defers, a real
`manage.py triggerer` process (with its trigger runner child) runs the trigger, and a new
runner resumes the same try at `method_name` with the event — or fails it when the trigger
raises, times out or cannot be imported; or the triggerer ends the task itself when the
trigger yields a task-end event (end_from_trigger), a real `manage.py dag_processor` then
running the on_failure_callback of a task its trigger failed, as Airflow 3 does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, DagCallbackRequest, TaskInstanceHistory, Trigger, XCom
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import start_engine_triggerer, triggerer_env
from tests.polling import wait_until
from tests.processes import ROOT, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TRIGGERS_MODULE = """
import asyncio
from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent
from dagruns.sdk import BaseTrigger, TriggerEvent


class SucceedsTrigger(BaseTrigger):
    def serialize(self):
        return ("deferral_triggers.SucceedsTrigger", {})

    async def run(self):
        yield TaskSuccessEvent(xcoms={"checked": "yes"})


class SkipsTrigger(BaseTrigger):
    def serialize(self):
        return ("deferral_triggers.SkipsTrigger", {})

    async def run(self):
        yield TaskSkippedEvent(xcoms={"why": "no data today"})


class FailsTrigger(BaseTrigger):
    def serialize(self):
        return ("deferral_triggers.FailsTrigger", {})

    async def run(self):
        yield TaskFailedEvent()


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
from deferral_triggers import (
    FailsTrigger, RaisingTrigger, SilentTrigger, SkipsTrigger, SucceedsTrigger,
)


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


def called_back(context):
    with open(context["dag_run"].conf["marker"], "w") as marker:
        marker.write(context["ti"].task_id + " " + context["ti"].state)
    print("the failure callback ran in the DAG processor")


with DAG("ends_in_triggerer", schedule=None, start_date=START):
    ends = Waits(task_id="ends", trigger=TimeDeltaTrigger(timedelta(seconds=1), end_from_trigger=True))
    ends >> Waits(task_id="after", trigger=TimeDeltaTrigger(timedelta(seconds=0)))
    Waits(task_id="skips", trigger=SkipsTrigger())
    Waits(task_id="calls_back", trigger=SucceedsTrigger(), on_success_callback=called_back)

with DAG("fails_in_triggerer", schedule=None, start_date=START):
    Waits(task_id="fails", trigger=FailsTrigger(), on_failure_callback=called_back)
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


def test_a_task_end_event_ends_the_task_in_the_triggerer_without_a_second_runner(
    engine, triggerer, tmp_path
):
    marker = tmp_path / "callback"
    run = engine.run_dag("ends_in_triggerer", timeout=120, conf={"marker": str(marker)})
    assert engine.states(run) == {
        "ends": "success", "after": "success", "skips": "skipped", "calls_back": "success",
    }  # fmt: skip

    def moves(task_id: str) -> list[str]:
        events = AuditEvent.objects.filter(run_id=run.run_id, task_id=task_id).order_by("pk")
        return list(events.values_list("event", flat=True))

    # Ended by the triggerer: no second runner (no second "running"), one try, its history.
    assert moves("ends") == ["running", "deferred", "success"]
    assert moves("skips") == ["running", "deferred", "skipped"]
    ends = engine.ti(run, "ends")
    assert (
        ends.try_number == 1 and TaskInstanceHistory.objects.filter(task_instance=ends).count() == 1
    )
    log = ti_log_path(ends).read_text()
    assert "Sensor time condition reached; marking task successful and exiting" in log
    assert "Marking task as SUCCESS from the triggerer (end_from_trigger)" in log
    assert "Resuming" not in log
    assert XCom.objects.get(dag_run=run, task_id="skips", key="why").value == "no data today"
    # As in Airflow 3, a success sent by the trigger runs no on_success_callback, and the
    # try's log says so.
    assert moves("calls_back") == ["running", "deferred", "success"]
    assert "on_success_callback not run" in ti_log_path(engine.ti(run, "calls_back")).read_text()
    assert XCom.objects.get(dag_run=run, task_id="calls_back", key="checked").value == "yes"
    assert not marker.exists() and not DagCallbackRequest.objects.exists()
    assert not Trigger.objects.exists()


def test_a_task_its_trigger_failed_runs_its_failure_callback_in_the_dag_processor(
    engine, triggerer, live_server, orch_settings, tmp_path
):
    marker = tmp_path / "callback"
    run = engine.run_dag("fails_in_triggerer", timeout=120, conf={"marker": str(marker)})
    ti = engine.ti(run, "fails")
    assert ti.state == "failed"
    events = AuditEvent.objects.filter(run_id=run.run_id, task_id="fails").order_by("pk")
    assert list(events.values_list("event", flat=True)) == ["running", "deferred", "failed"]
    assert "on_failure_callback to the DAG processor" in ti_log_path(ti).read_text()
    processor = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "dag_processor"],
        env=triggerer_env(engine, live_server, orch_settings),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: DagCallbackRequest.objects.filter(
                dag_run=run, finished_at__isnull=False
            ).exists(),
            timeout=120,
            what="the DAG processor to run the task's on_failure_callback",
        )
    finally:
        stop(processor)
    assert marker.read_text() == "fails failed"
    request = DagCallbackRequest.objects.get(dag_run=run)
    assert (request.task_id, request.outcome) == ("fails", "success")
    log = callback_log_path("fails_in_triggerer", run.run_id).read_text()
    assert "the failure callback ran in the DAG processor" in log


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
