"""BaseSensorOperator's poking, timeout, soft/never/silent fail, reschedule and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.sdk import (
    DAG,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    DagDefinitionError,
    PokeReturnValue,
)
from dagruns.sdk.sensors import base as sensor_base
from dagruns.sdk.sensors.base import poke_mode_only


class Clock:
    """time.monotonic and time.sleep for the sensor module: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(sensor_base.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(sensor_base.time, "sleep", fake.sleep)
    return fake


class Answers(BaseSensorOperator):
    """Pokes return (or raise) the given answers in order."""

    def __init__(self, *, answers, **kwargs):
        super().__init__(**kwargs)
        self.answers = list(answers)
        self.pokes = 0

    def poke(self, context):
        self.pokes += 1
        answer = self.answers.pop(0) if self.answers else False
        if isinstance(answer, BaseException):
            raise answer
        return answer


class RescheduleTI:
    """context["ti"] of a reschedule-mode try: the first reschedule's start date, if any."""

    def __init__(self, first: datetime | None = None) -> None:
        self.first = first
        self.asked = 0

    def get_first_reschedule_date(self, context):
        self.asked += 1
        return self.first


def sensor(answers, **kwargs):
    with DAG("d"):
        return Answers(task_id="s", answers=answers, **kwargs)


def test_poke_mode_sleeps_poke_interval_between_pokes_until_the_condition_holds(clock):
    s = sensor([False, False, True], poke_interval=5)
    assert s.execute({}) is None
    assert s.pokes == 3
    assert clock.sleeps == [5, 5]


def test_a_poke_return_value_ends_the_wait_and_its_xcom_value_is_the_result(clock):
    s = sensor([PokeReturnValue(False, "no"), PokeReturnValue(True, {"rows": 3})], poke_interval=1)
    assert s.execute({}) == {"rows": 3}


def test_poke_mode_times_out_with_airflow_sensor_timeout(clock):
    s = sensor([], poke_interval=10, timeout=25)
    with pytest.raises(AirflowSensorTimeout, match="exceeds the specified timeout of 25"):
        s.execute({})
    assert s.pokes == 4  # at 0, 10, 20, 30 s: the fourth finds 30 > 25


def test_soft_fail_turns_the_timeout_into_a_skip(clock):
    s = sensor([], poke_interval=10, timeout=5, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        s.execute({})


@pytest.mark.parametrize("error", [AirflowFailException("x"), AirflowSensorTimeout("x")])
def test_soft_fail_skips_when_poke_raises_a_soft_fail_exception(clock, error):
    with pytest.raises(AirflowSkipException, match="soft_fail"):
        sensor([error], soft_fail=True).execute({})


def test_soft_fail_does_not_hide_an_ordinary_error(clock):
    with pytest.raises(RuntimeError, match="boom"):
        sensor([RuntimeError("boom")], soft_fail=True).execute({})


def test_never_fail_skips_on_any_error(clock):
    with pytest.raises(AirflowSkipException, match="never_fail"):
        sensor([RuntimeError("boom")], never_fail=True).execute({})


def test_silent_fail_logs_the_error_and_pokes_again(clock, caplog):
    s = sensor([RuntimeError("flaky"), True], poke_interval=1, silent_fail=True)
    s.execute({})
    assert s.pokes == 2
    assert "Sensor poke failed" in caplog.text and "flaky" in caplog.text


def test_an_error_in_poke_propagates_by_default(clock):
    with pytest.raises(ZeroDivisionError):
        sensor([ZeroDivisionError()]).execute({})


def test_a_skip_from_poke_is_a_skip(clock):
    with pytest.raises(AirflowSkipException):
        sensor([AirflowSkipException("not today")]).execute({})


def test_reschedule_mode_asks_to_come_back_after_poke_interval():
    s = sensor([False], mode="reschedule", poke_interval=30)
    ti = RescheduleTI()
    before = datetime.now(UTC)
    with pytest.raises(AirflowRescheduleException) as caught:
        s.execute({"ti": ti})
    assert s.pokes == 1 and ti.asked == 1
    date = caught.value.reschedule_date
    assert before + timedelta(seconds=30) <= date <= datetime.now(UTC) + timedelta(seconds=30)


def test_reschedule_mode_counts_the_timeout_from_the_first_reschedule():
    started = datetime.now(UTC) - timedelta(seconds=100)
    s = sensor([False], mode="reschedule", poke_interval=1, timeout=60)
    with pytest.raises(AirflowSensorTimeout):
        s.execute({"ti": RescheduleTI(started)})


def test_reschedule_mode_within_its_timeout_reschedules_again():
    started = datetime.now(UTC) - timedelta(seconds=10)
    s = sensor([False], mode="reschedule", poke_interval=1, timeout=60)
    with pytest.raises(AirflowRescheduleException):
        s.execute({"ti": RescheduleTI(started)})


def test_reschedule_mode_succeeds_without_rescheduling_when_the_condition_holds():
    assert (
        sensor([PokeReturnValue(True, 7)], mode="reschedule").execute({"ti": RescheduleTI()}) == 7
    )


def test_exponential_backoff_grows_within_airflow_bounds_and_max_wait(clock):
    s = sensor([False] * 5 + [True], poke_interval=4, exponential_backoff=True)
    s.execute({})
    # poke n waits between poke_interval * 2 ** (n - 2) and twice that (at least 1 s).
    for n, waited in enumerate(clock.sleeps, start=1):
        low = max(int(4 * 2 ** (n - 2)), 1)
        assert low <= waited < 2 * low
    capped = sensor([False] * 5 + [True], poke_interval=4, exponential_backoff=True, max_wait=5)
    clock.sleeps.clear()
    capped.execute({})
    assert max(clock.sleeps) <= 5


def test_timedeltas_are_accepted_and_kept_as_seconds():
    s = sensor([], poke_interval=timedelta(minutes=2), timeout=timedelta(hours=1), max_wait=9)
    assert (s.poke_interval, s.timeout, s.max_wait) == (120, 3600, timedelta(seconds=9))


def test_the_default_timeout_is_airflows_week():
    assert sensor([]).timeout == 7 * 24 * 3600


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "sleep"}, "the mode must be one of"),
        ({"poke_interval": -1}, "poke_interval must be non-negative"),
        ({"timeout": "soon"}, "timeout must be a timedelta"),
        ({"soft_fail": True, "never_fail": True}, "mutually exclusive"),
    ],
)
def test_bad_arguments_fail_the_dag_file_naming_the_task(kwargs, message):
    with pytest.raises(DagDefinitionError, match=message) as caught:
        sensor([], **kwargs)
    assert "'s'" in str(caught.value)


def test_poke_mode_only_refuses_reschedule():
    @poke_mode_only
    class OnlyPoke(Answers):
        pass

    with DAG("d"):
        s = OnlyPoke(task_id="p", answers=[])
        assert s.mode == "poke"
        with pytest.raises(DagDefinitionError, match="Only 'poke'"):
            OnlyPoke(task_id="q", answers=[], mode="reschedule")


def test_reschedule_mode_backoff_grows_with_the_time_already_waited():
    def next_wait(waited: float, **kwargs) -> float:
        s = sensor([False], mode="reschedule", poke_interval=10, exponential_backoff=True, **kwargs)
        ti = RescheduleTI(datetime.now(UTC) - timedelta(seconds=waited) if waited else None)
        with pytest.raises(AirflowRescheduleException) as caught:
            s.execute({"ti": ti})
        return (caught.value.reschedule_date - datetime.now(UTC)).total_seconds()

    first = next_wait(0)
    later = next_wait(600)
    # The first wait is about poke_interval / 2 (at least 5 s, under 10 s); after ten minutes
    # of pokes the estimated poke count makes it far longer.
    assert 4 <= first < 10
    assert later > 2 * first
    assert next_wait(600, max_wait=15) <= 15
