"""WeekDay: ISO day numbers, names in any case, and clear errors for unknown names."""

from __future__ import annotations

import pytest

from dagruns.sdk import WeekDay


def test_days_are_iso_numbers():
    assert WeekDay.MONDAY == 1 and WeekDay.SUNDAY == 7
    assert [day.name for day in WeekDay][:2] == ["MONDAY", "TUESDAY"]


def test_get_weekday_number_takes_names_in_any_case():
    assert WeekDay.get_weekday_number("Sunday") is WeekDay.SUNDAY
    assert WeekDay.get_weekday_number("wednesday") is WeekDay.WEDNESDAY


def test_an_unknown_week_day_name_is_an_error_naming_it():
    with pytest.raises(AttributeError, match='Invalid Week Day passed: "Funday"'):
        WeekDay.get_weekday_number("Funday")


def test_convert_passes_weekdays_through_and_looks_names_up():
    assert WeekDay.convert(WeekDay.FRIDAY) is WeekDay.FRIDAY
    assert WeekDay.convert("friday") is WeekDay.FRIDAY


def test_validate_week_day_takes_one_day_or_an_iterable_of_them():
    assert WeekDay.validate_week_day("Monday") == {WeekDay.MONDAY}
    assert WeekDay.validate_week_day(WeekDay.MONDAY) == {WeekDay.MONDAY}
    assert WeekDay.validate_week_day({"saturday", WeekDay.SUNDAY}) == {6, 7}
    assert WeekDay.validate_week_day(["Tuesday", "tuesday"]) == {WeekDay.TUESDAY}
    with pytest.raises(TypeError, match="Unsupported Type for week_day"):
        WeekDay.validate_week_day(3)  # type: ignore[arg-type]
