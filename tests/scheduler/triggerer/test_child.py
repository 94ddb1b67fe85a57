"""The trigger runner child, as the triggerer runs it: a separate process with no database
settings, driven over its pipes."""

from __future__ import annotations

import os
import textwrap
import time
from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk.triggers.serde import decode, encode_kwargs
from scheduler.triggerer.child import build_trigger
from scheduler.triggerer.messages import TriggerEnded, TriggerFailed, TriggerFired, TriggerLogs
from scheduler.triggerer.runner import TriggerRunnerProcess, child_environment
from tests.polling import wait_until

TRIGGERS = '''
import asyncio, os, time
from dagruns.sdk import BaseTrigger, TriggerEvent


class TalkativeTrigger(BaseTrigger):
    def __init__(self, password):
        super().__init__()
        self.password = password

    def serialize(self):
        return ("probe_triggers.TalkativeTrigger", {"password": self.password})

    async def run(self):
        self.log.info("connecting with %s", self.password)
        yield TriggerEvent(None)


class EnvTrigger(BaseTrigger):
    """Reports what of the database settings its process can see."""

    def serialize(self):
        return ("probe_triggers.EnvTrigger", {})

    async def run(self):
        names = ("DJANGO_SETTINGS_MODULE", "ORCH_DATABASE_URL", "ORCH_SECRET_KEY")
        yield TriggerEvent({name: os.environ.get(name) for name in names})


class BlockingTrigger(BaseTrigger):
    def serialize(self):
        return ("probe_triggers.BlockingTrigger", {})

    async def run(self):
        time.sleep(0.6)  # blocks the loop, as a badly written trigger does
        yield TriggerEvent("done")


class ForeverTrigger(BaseTrigger):
    def serialize(self):
        return ("probe_triggers.ForeverTrigger", {"marker": self.marker})

    def __init__(self, marker):
        super().__init__()
        self.marker = marker

    async def run(self):
        open(self.marker, "w").write("started")
        while True:
            await asyncio.sleep(3600)
        yield

    async def cleanup(self):
        open(self.marker, "w").write("cleaned")


class EndsTrigger(BaseTrigger):
    def serialize(self):
        return ("probe_triggers.EndsTrigger", {})

    async def run(self):
        return
        yield


class CountTrigger(BaseTrigger):
    """Yields 1, 2, 3 and ends."""

    def serialize(self):
        return ("probe_triggers.CountTrigger", {})

    async def run(self):
        for n in (1, 2, 3):
            yield TriggerEvent(n)
'''


@pytest.fixture
def child(tmp_path, monkeypatch):
    (tmp_path / "probe_triggers.py").write_text(textwrap.dedent(TRIGGERS))
    err = tmp_path / "child.err"
    runner = TriggerRunnerProcess(dags_folder=str(tmp_path))
    monkeypatch.setenv("ORCH_DATABASE_URL", "postgresql://secret@db/orch")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
    with err.open("wb") as stderr:
        fd = os.dup(2)
        os.dup2(stderr.fileno(), 2)  # the child inherits stderr: its log
        try:
            runner.start()
        finally:
            os.dup2(fd, 2)
            os.close(fd)
    runner.err_path = err  # type: ignore[attr-defined]
    yield runner
    runner.stop()


def reports(runner, count: int = 1, logs: list | None = None) -> list:
    """The next `count` outcomes (fired or failed); log messages go to `logs`."""
    got: list = []

    def enough():
        for message in runner.read():
            if isinstance(message, TriggerLogs):
                (logs if logs is not None else []).append(message)
            else:
                got.append(message)
        return len(got) >= count

    wait_until(enough, f"{count} report(s) from the trigger runner", timeout=60)
    return got


def test_a_started_trigger_reports_its_first_event_encoded(child):
    moment = datetime.now(UTC) + timedelta(milliseconds=100)
    child.start_trigger(
        7,
        "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
        encode_kwargs({"moment": moment}, "kwargs"),
    )
    [message] = reports(child)
    assert isinstance(message, TriggerFired) and message.trigger_id == 7
    assert decode(message.payload) == moment


def test_what_a_trigger_logs_is_sent_for_its_tasks_log(child):
    logs: list = []
    child.start_trigger(
        9,
        "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
        encode_kwargs({"moment": datetime.now(UTC)}, "kwargs"),
    )
    reports(child, logs=logs)
    lines = [line for message in logs for line in message.lines]
    assert {message.trigger_id for message in logs} == {9}
    assert any(line.startswith("[triggerer] [") and "trigger starting" in line for line in lines)
    assert any("yielding event with payload" in line for line in lines)


def test_a_trigger_logging_its_sensitive_kwargs_has_them_masked(child):
    logs: list = []
    child.start_trigger(10, "probe_triggers.TalkativeTrigger", {"password": "hunter2-secret"})
    reports(child, logs=logs)
    [line] = [line for m in logs for line in m.lines if "connecting with" in line]
    assert "hunter2-secret" not in line and "***" in line


def test_trigger_code_runs_without_database_settings(child):
    assert not any(name in child_environment() for name in ("ORCH_DATABASE_URL",))
    child.start_trigger(1, "probe_triggers.EnvTrigger", {})
    [message] = reports(child)
    assert message.payload == {
        "DJANGO_SETTINGS_MODULE": None,
        "ORCH_DATABASE_URL": None,
        "ORCH_SECRET_KEY": None,
    }


def test_a_class_that_cannot_be_imported_fails_naming_its_classpath(child):
    child.start_trigger(2, "no_such_module.Gone", {})
    child.start_trigger(3, "probe_triggers.NotThere", {})
    by_id = {m.trigger_id: m for m in reports(child, 2)}
    assert isinstance(by_id[2], TriggerFailed)
    assert by_id[2].traceback[0] == "Could not load trigger 'no_such_module.Gone' (trigger 2):"
    assert "No module named 'no_such_module'" in by_id[2].traceback[-1]
    assert "has no trigger class 'NotThere'" in by_id[3].traceback[-1]


def test_a_trigger_that_ends_without_an_event_fails(child):
    child.start_trigger(4, "probe_triggers.EndsTrigger", {})
    [message] = reports(child)
    assert message.traceback == [
        "Trigger probe_triggers.EndsTrigger exited without sending an event"
    ]


def test_a_cancelled_trigger_is_cleaned_up_and_reports_nothing(child, tmp_path):
    marker = tmp_path / "cleaned"
    child.start_trigger(5, "probe_triggers.ForeverTrigger", {"marker": str(marker)})
    wait_until(marker.exists, "the trigger started", timeout=60)
    child.cancel_trigger(5)
    wait_until(lambda: marker.read_text() == "cleaned", "the trigger's cleanup ran", timeout=60)
    child.start_trigger(6, "probe_triggers.EndsTrigger", {})
    assert [m.trigger_id for m in reports(child)] == [6]


def test_a_trigger_blocking_the_loop_is_reported_in_the_log(child):
    child.start_trigger(8, "probe_triggers.BlockingTrigger", {})
    reports(child)
    wait_until(
        lambda: "Triggerer's async thread was blocked for" in child.err_path.read_text(),
        "the blocked-loop warning",
        timeout=60,
    )


def test_the_child_exits_when_the_triggerer_goes(child):
    proc = child.proc
    proc.stdin.close()  # what the kernel does when the triggerer dies
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.returncode == 0


def test_build_trigger_refuses_a_class_that_is_not_a_trigger():
    with pytest.raises(TypeError, match="not a BaseTrigger subclass"):
        build_trigger("datetime.datetime", {})
    with pytest.raises(ImportError, match="not a dotted path"):
        build_trigger("Plain", {})


def test_a_deferral_trigger_reports_only_its_first_event_a_watcher_every_one_then_its_end(child):
    child.start_trigger(11, "probe_triggers.CountTrigger", {})
    child.start_trigger(12, "probe_triggers.CountTrigger", {}, watcher=True)
    got = reports(child, 5)
    assert [
        (type(m).__name__, m.trigger_id, getattr(m, "payload", None))
        for m in got
        if m.trigger_id == 11
    ] == [("TriggerFired", 11, 1)]
    watched = [m for m in got if m.trigger_id == 12]
    assert [getattr(m, "payload", None) for m in watched if isinstance(m, TriggerFired)] == [
        1,
        2,
        3,
    ]
    assert isinstance(watched[-1], TriggerEnded)
