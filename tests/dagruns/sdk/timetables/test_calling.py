"""Asking a custom timetable for dates: Airflow's signature and pendulum values in, plain UTC
datetimes out, and whatever it does wrong a TimetableError naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import pendulum
import pytest

from dagruns.sdk.timetables import (
    DagRunInfo,
    DataInterval,
    Timetable,
    TimetableError,
    manual_data_interval,
    next_run_after,
)
from tests.dagruns.sdk.timetables.timetable_helpers import utc


class WeekdayMornings(Timetable):
    """Mon-Fri 06:00 in Amsterdam; uses pendulum's API, as Airflow's examples do."""

    def infer_manual_data_interval(self, *, run_after):
        return DataInterval(start=run_after.subtract(days=1), end=run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        assert isinstance(restriction.earliest, pendulum.DateTime)
        if last_automated_data_interval is not None:
            base = last_automated_data_interval.end.add(days=1)
        else:
            base = restriction.earliest
        at = base.in_timezone("Europe/Amsterdam").set(hour=6, minute=0, second=0, microsecond=0)
        while at.weekday() >= 5:
            at = at.add(days=1)
        return DagRunInfo.exact(at)


def ask(timetable, last=None):
    return next_run_after(
        timetable,
        last_automated_data_interval=last,
        start_date=utc(2024, 3, 1),
        end_date=None,
        catchup=True,
        now=utc(2024, 3, 20),
    )


def test_a_custom_timetable_gets_pendulum_values_and_its_answer_comes_back_plain_utc():
    info = ask(WeekdayMornings(), last=DataInterval.exact(utc(2024, 3, 1, 5)))  # a Friday
    assert info is not None
    assert info.run_after == utc(2024, 3, 4, 5)  # Monday 06:00 CET
    assert type(info.run_after) is datetime and info.run_after.tzinfo is UTC
    assert info.logical_date == info.data_interval.start == info.run_after


def test_a_custom_manual_interval_is_asked_the_same_way():
    interval = manual_data_interval(WeekdayMornings(), utc(2024, 3, 5))
    assert interval == DataInterval(utc(2024, 3, 4), utc(2024, 3, 5))


class Raises(WeekdayMornings):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        raise KeyError("holiday calendar")


class Naive(WeekdayMornings):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return DagRunInfo.exact(datetime(2024, 3, 4, 6))


class NotAnInfo(WeekdayMornings):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return "tomorrow"


@pytest.mark.parametrize(
    ("timetable", "problem"),
    [
        (Raises(), r"Raises\.next_dagrun_info raised KeyError: 'holiday calendar'"),
        (Naive(), r"Naive returned .*expected a timezone-aware datetime"),
        (NotAnInfo(), r"NotAnInfo\.next_dagrun_info returned 'tomorrow': expected a DagRunInfo"),
    ],
)
def test_a_custom_timetable_that_fails_is_a_timetable_error_naming_it(timetable, problem):
    with pytest.raises(TimetableError, match=rf"timetable {__name__}\.{problem}"):
        ask(timetable)


def test_a_custom_timetable_may_build_dag_run_info_without_logical_date():
    info = DagRunInfo(
        run_after=utc(2024, 1, 2), data_interval=DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    )
    assert info.logical_date == utc(2024, 1, 1)


class StandsStill(WeekdayMornings):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return DagRunInfo.exact(restriction.earliest)


def test_a_custom_timetable_that_does_not_move_forward_is_refused_naming_it():
    assert ask(StandsStill()) is not None  # the first run is fine
    with pytest.raises(
        TimetableError,
        match=r"StandsStill\.next_dagrun_info returned a run at .* it must move forward",
    ):
        ask(StandsStill(), last=DataInterval.exact(utc(2024, 3, 1)))


class BadSummary(WeekdayMornings):
    @property
    def summary(self):
        raise RuntimeError("no words")


def test_a_custom_summary_that_raises_is_a_timetable_error_naming_it():
    from dagruns.sdk.timetables import describe_timetable

    with pytest.raises(
        TimetableError, match=r"BadSummary's summary or description raised RuntimeError: no words"
    ):
        describe_timetable(BadSummary())
