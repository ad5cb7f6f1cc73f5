"""Working days (工作日) on the official Chinese calendar, swapped weekends (调休) included.

The State Council publishes each year's holidays late in the year before; `chinese_calendar`
carries them. For a year it does not know yet, admins enter the days in the override table
(`HolidayOverride`); until then such a year falls back to plain weekends plus the fixed-date
statutory holidays, and `is_known_year` says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar

# Fixed-date statutory holidays (全体公民放假的节日) used only for years the library does not know.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@lru_cache(maxsize=65536)  # the library takes ~40 µs a call; a 90-day clock asks ~130 times
def _library_is_workday(day: dt.date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """Decides whether a date is a working day.

    `overrides` maps a date to True (working day) or False (rest day) and wins over the library.
    """

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = _library_is_workday(day)
        if known is not None:
            return known
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS

    def is_rest_day(self, day: dt.date) -> bool:
        return not self.is_workday(day)

    @staticmethod
    def is_known_year(year: int) -> bool:
        return _library_is_workday(dt.date(year, 6, 1)) is not None

    def next_workday_on_or_after(self, day: dt.date) -> dt.date:
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def add_workdays(self, day: dt.date, count: int) -> dt.date:
        """The date `count` working days after `day` (the start day itself is not counted)."""
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count
