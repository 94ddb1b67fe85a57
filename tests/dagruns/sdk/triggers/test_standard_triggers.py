"""The standard provider's triggers: what they serialize to and when they fire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk import DateTimeTrigger, FileTrigger, TimeDeltaTrigger, TriggerEvent
from dagruns.sdk.triggers import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent


def first_event(trigger, timeout: float = 30.0) -> TriggerEvent:
    async def first():
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout))


def test_a_datetime_trigger_serializes_to_airflows_classpath_and_its_moment_in_utc():
    moment = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert DateTimeTrigger(moment).serialize() == (
        "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
        {"moment": moment, "end_from_trigger": False},
    )


def test_a_datetime_trigger_refuses_naive_datetimes_and_other_types():
    with pytest.raises(ValueError, match="naive"):
        DateTimeTrigger(datetime(2030, 1, 1))
    with pytest.raises(TypeError, match="datetime.datetime"):
        DateTimeTrigger("2030-01-01")  # type: ignore[arg-type]


def test_a_trigger_ending_its_task_yields_a_success_event_when_its_moment_passed():
    moment = datetime.now(UTC) + timedelta(milliseconds=50)
    trigger = DateTimeTrigger(moment, end_from_trigger=True)
    assert trigger.serialize()[1] == {"moment": moment, "end_from_trigger": True}
    assert first_event(trigger) == TaskSuccessEvent()
    assert datetime.now(UTC) >= moment
    ended = first_event(TimeDeltaTrigger(timedelta(milliseconds=10), end_from_trigger=True))
    assert isinstance(ended, TaskSuccessEvent)


def test_end_from_trigger_must_be_a_bool():
    with pytest.raises(TypeError, match="end_from_trigger"):
        DateTimeTrigger(datetime(2030, 1, 1, tzinfo=UTC), end_from_trigger="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "state"),
    [(TaskSuccessEvent, "success"), (TaskFailedEvent, "failed"), (TaskSkippedEvent, "skipped")],
)
def test_task_end_events_carry_their_state_and_xcoms_and_refuse_a_payload(event, state):
    ended = event(xcoms={"rows": 3})
    assert (ended.task_instance_state, ended.payload, ended.xcoms) == (state, state, {"rows": 3})
    assert event().xcoms is None
    with pytest.raises(ValueError, match="'payload' not supported"):
        event(payload=1)
    with pytest.raises(TypeError, match="string keys"):
        event(xcoms={1: "x"})


def test_a_timedelta_trigger_is_the_datetime_trigger_of_now_plus_delta():
    before = datetime.now(UTC)
    classpath, kwargs = TimeDeltaTrigger(timedelta(hours=1)).serialize()
    assert classpath.endswith("temporal.DateTimeTrigger")
    assert before + timedelta(hours=1) <= kwargs["moment"] <= datetime.now(UTC) + timedelta(hours=1)


def test_a_datetime_trigger_fires_with_its_moment_once_it_passed():
    moment = datetime.now(UTC) + timedelta(milliseconds=50)
    event = first_event(DateTimeTrigger(moment))
    assert event == TriggerEvent(moment)
    assert datetime.now(UTC) >= moment


class _Clocks:
    """A wall clock and the monotonic time asyncio sleeps on, both fake: `sleep` advances
    both, and the wall clock can be set forward on its own (a host's time corrected)."""

    def __init__(self, start: datetime) -> None:
        self.wall, self.slept, self.sleeps = start, 0.0, []

    def utcnow(self) -> datetime:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.slept += seconds
        self.wall += timedelta(seconds=seconds)
        if len(self.sleeps) == 1:
            self.wall += timedelta(seconds=60)  # set forward during the first sleep


def test_a_datetime_trigger_set_forward_by_the_wall_clock_fires_at_most_a_second_late(
    monkeypatch,
):
    from dagruns.sdk.triggers import temporal

    start = datetime(2026, 1, 1, tzinfo=UTC)
    clocks = _Clocks(start)
    monkeypatch.setattr(temporal, "_utcnow", clocks.utcnow)
    monkeypatch.setattr(temporal.asyncio, "sleep", clocks.sleep)
    moment = start + timedelta(seconds=180)
    event = first_event(DateTimeTrigger(moment))
    assert event == TriggerEvent(moment)
    # 60 s of the wait passed on the wall clock alone: the trigger noticed at its next look
    # (half-way through what was left), not after sleeping the whole 180 s.
    assert clocks.wall >= moment
    assert clocks.wall - moment <= timedelta(seconds=1)
    assert clocks.slept <= 120 + 1
    assert clocks.sleeps[0] == 90


@pytest.mark.parametrize(
    ("remaining", "sleep"), [(10_000, 3600), (180, 90), (1.5, 1.0), (1.0, 1.0), (0.2, 0.2)]
)
def test_a_time_trigger_sleeps_half_of_what_is_left_down_to_a_second(remaining, sleep):
    from dagruns.sdk.triggers.temporal import _next_sleep

    assert _next_sleep(remaining) == sleep


def test_a_file_trigger_fires_for_a_matching_file(tmp_path):
    (tmp_path / "data_1.csv").write_text("x")
    trigger = FileTrigger(str(tmp_path / "data_*.csv"), poke_interval=0.01)
    assert first_event(trigger) == TriggerEvent(True)


def test_a_file_trigger_fires_for_a_directory_holding_a_file(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a").write_text("x")
    assert first_event(FileTrigger(str(tmp_path / "inbox"), poke_interval=0.01)).payload is True


def test_a_file_trigger_keeps_waiting_until_the_file_appears(tmp_path):
    target = tmp_path / "late.txt"
    pokes = []

    trigger = FileTrigger(str(target), poke_interval=0.01)
    original_sleep = asyncio.sleep

    async def sleep_and_count(delay):  # the file appears during the third wait
        pokes.append(delay)
        if len(pokes) == 3:
            target.write_text("now")
        await original_sleep(0)

    async def first():
        asyncio.sleep = sleep_and_count  # type: ignore[assignment]
        try:
            async for event in trigger.run():
                return event
        finally:
            asyncio.sleep = original_sleep  # type: ignore[assignment]

    assert asyncio.run(first()) == TriggerEvent(True)
    assert pokes == [0.01, 0.01, 0.01]


def test_a_file_trigger_serializes_with_airflows_fields_and_takes_poll_interval():
    assert FileTrigger("/x/*.csv", recursive=True, poll_interval=2).serialize() == (
        "airflow.providers.standard.triggers.file.FileTrigger",
        {"filepath": "/x/*.csv", "recursive": True, "poke_interval": 2.0},
    )
    with pytest.raises(TypeError, match="unexpected arguments: colour"):
        FileTrigger("/x", colour="red")


def test_a_directory_file_delete_trigger_waits_for_its_directory_and_file_then_deletes_it(
    tmp_path, monkeypatch
):
    from dagruns.sdk.triggers import DirectoryFileDeleteTrigger

    inbox = tmp_path / "inbox"
    trigger = DirectoryFileDeleteTrigger(directory=str(inbox), filename="go.flag", poke_interval=1)
    assert trigger.serialize() == (
        "airflow.providers.standard.triggers.file.DirectoryFileDeleteTrigger",
        {"directory": str(inbox), "filename": "go.flag", "poke_interval": 1.0},
    )
    waits = []
    original_sleep = asyncio.sleep

    async def sleep_then_deliver(delay):  # no directory at first, then another file, then ours
        waits.append(delay)
        if len(waits) == 1:
            inbox.mkdir()
            (inbox / "other.flag").write_text("")
        elif len(waits) == 2:
            (inbox / "go.flag").write_text("")
        await original_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep_then_deliver)
    event = first_event(trigger)
    assert event == TriggerEvent({"filepath": str(inbox / "go.flag")})
    assert waits == [1.0, 1.0]
    assert sorted(p.name for p in inbox.iterdir()) == ["other.flag"]


def test_a_directory_file_delete_trigger_over_a_file_fails():
    from dagruns.sdk.triggers import DirectoryFileDeleteTrigger

    trigger = DirectoryFileDeleteTrigger(directory=__file__, filename="x")
    with pytest.raises(NotADirectoryError):
        first_event(trigger)
