"""WeekDay: the days of the week as ISO numbers (Monday 1 ... Sunday 7), Airflow's
``airflow.utils.weekday.WeekDay``."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class WeekDay(enum.IntEnum):
    """ISO week day numbers, so ``date.isoweekday() in {WeekDay.SATURDAY, ...}`` works."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> WeekDay:
        """The day for its full English name, in any case ("Sunday", "SUNDAY").

        An unknown name raises AttributeError, as Airflow's does, naming the bad value and
        the valid ones."""
        if not isinstance(week_day_str, str):
            raise TypeError(
                f"A week day name must be a str, got {type(week_day_str).__name__}: "
                f"{week_day_str!r}"
            )
        sanitized = week_day_str.strip().upper()
        if sanitized not in cls.__members__:
            valid = ", ".join(day.name.capitalize() for day in cls)
            raise AttributeError(f'Invalid Week Day passed: "{week_day_str}" (valid: {valid})')
        return cls[sanitized]

    @classmethod
    def convert(cls, day: str | WeekDay) -> WeekDay:
        """A WeekDay from a WeekDay or a day name."""
        if isinstance(day, WeekDay):
            return day
        return cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(cls, week_day: str | WeekDay | Iterable[str | WeekDay]) -> set[WeekDay]:
        """One day or an iterable of days (names or WeekDays) as a set of WeekDays."""
        if isinstance(week_day, WeekDay | str):
            return {cls.convert(week_day)}
        if not isinstance(week_day, Iterable):
            raise TypeError(
                f"Unsupported Type for week_day parameter: {type(week_day).__name__}. "
                "Input should be iterable type: str, set, list, dict or Weekday enum type"
            )
        days = {cls.convert(item) for item in week_day}
        if not days:
            raise ValueError("week_day must name at least one day")
        return days
