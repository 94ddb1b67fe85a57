"""`BaseOperator.defer()` and where a resumed task starts (`resume_execution`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk import (
    BaseOperator,
    BaseTrigger,
    TaskDeferralError,
    TaskDeferralTimeout,
    TaskDeferred,
    TimeDeltaTrigger,
    TriggerEvent,
)


class Waits(BaseOperator):
    def execute(self, context):
        self.defer(
            trigger=TimeDeltaTrigger(timedelta(minutes=1)),
            method_name="done",
            kwargs={"n": 1},
            timeout=timedelta(minutes=5),
        )

    def done(self, context, event=None, n=None):
        return (event, n)


def test_defer_raises_task_deferred_with_the_trigger_and_the_resume_point():
    with pytest.raises(TaskDeferred) as info:
        Waits(task_id="w").execute({})
    deferred = info.value
    assert isinstance(deferred.trigger, TimeDeltaTrigger)
    assert (deferred.method_name, deferred.kwargs) == ("done", {"n": 1})
    assert deferred.timeout == timedelta(minutes=5)
    assert not isinstance(deferred, Exception)  # `except Exception` in task code cannot eat it


def test_a_resumed_task_runs_method_name_with_the_event_and_kwargs():
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    task = Waits(task_id="w")
    assert task.resume_execution("done", {"event": moment, "n": 1}, {}) == (moment, 1)


def test_resuming_at_a_method_the_operator_lacks_names_it():
    with pytest.raises(Exception, match="method_name='nope'"):
        Waits(task_id="w").resume_execution("nope", {}, {})


def test_a_failed_trigger_resumes_into_a_deferral_error(caplog):
    with pytest.raises(TaskDeferralError, match="Trigger failure"):
        Waits(task_id="w").resume_execution(
            "__fail__", {"error": "Trigger failure", "traceback": ["Traceback", "Boom"]}, {}
        )
    assert "Trigger failed:\nTraceback\nBoom" in caplog.text


def test_a_timed_out_deferral_resumes_into_a_deferral_timeout():
    with pytest.raises(TaskDeferralTimeout, match="Trigger/execution timeout"):
        Waits(task_id="w").resume_execution("__fail__", {"error": "Trigger/execution timeout"}, {})


def test_a_trigger_must_say_how_to_serialize_and_run_itself():
    with pytest.raises(TypeError, match="abstract"):
        BaseTrigger()  # type: ignore[abstract]
    assert TriggerEvent(1) == TriggerEvent(1) != TriggerEvent(2)


@pytest.mark.usefixtures("shim")
def test_airflows_import_paths_give_the_triggers_and_exceptions():
    from airflow.exceptions import TaskDeferred as Deferred
    from airflow.providers.standard.triggers.file import FileTrigger as File
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger as At
    from airflow.triggers.base import BaseTrigger as Base
    from airflow.triggers.base import TriggerEvent as Event

    import dagruns.sdk as sdk

    assert (Deferred, File, At, Base, Event) == (
        sdk.TaskDeferred, sdk.FileTrigger, sdk.DateTimeTrigger, sdk.BaseTrigger, sdk.TriggerEvent,
    )  # fmt: skip
