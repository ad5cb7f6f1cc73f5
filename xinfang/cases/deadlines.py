"""Deadlines as people read them: the last day, never 00:00 of the day after.

A deadline in days is stored as 24:00 of its last day in Beijing time, that is the first instant
of the next day (`clocks.end_of_day`). Printed with a plain date format it reads as the day after
the last day, so every page, list, export, notice, the portal and the API print a deadline
through this module: the last day as that day ("2026-12-18 24:00", "2026年12月18日"). A clock in
hours (12345 紧急) ends at a time of day and is printed with it.

Dates a person enters (a leader's 批示期限, a plan's 化解期限, a screening entry's deadline) are
last days too: one that falls on a rest day moves to the next working day, with a note saying so
(`explicit_last_day`), as a period in days would (民法典 第二百零三条).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from xinfang.cases import clocks
from xinfang.cases.calendar import WorkCalendar


def is_end_of_day(due: dt.datetime) -> bool:
    """Whether `due` is 24:00 of a Beijing day (a deadline in days)."""
    return due.astimezone(clocks.LOCAL).time() == dt.time(0)


def last_day(due: dt.datetime) -> dt.date:
    """The Beijing date a deadline falls on: 24:00 of a day belongs to that day."""
    return clocks.local_date(due - dt.timedelta(microseconds=1))


def cn_date(day: dt.date) -> str:
    """2026年11月28日 (no leading zeros), as notices and messages write a date."""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_month_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def format_deadline(due: dt.datetime | None, *, empty: str = "—") -> str:
    """A deadline for a page, a list or an export: "2026-12-18 24:00", or "2026-12-18 15:30"
    for a clock in hours."""
    if due is None:
        return empty
    if is_end_of_day(due):
        return f"{last_day(due):%Y-%m-%d} 24:00"
    return f"{due.astimezone(clocks.LOCAL):%Y-%m-%d %H:%M}"


def format_last_day(due: dt.datetime | None, *, empty: str = "—") -> str:
    """Only the last day, "2026-12-18"."""
    return f"{last_day(due):%Y-%m-%d}" if due is not None else empty


def cn_last_day(due: dt.datetime | None, *, empty: str = "") -> str:
    """The last day as a notice writes it, "2026年12月18日"."""
    return cn_date(last_day(due)) if due is not None else empty


@dataclass(frozen=True)
class ExplicitDay:
    """A date someone entered as a last day, after the rest-day rule.

    `day` is the last day that applies; `note` is empty unless it was moved.
    """

    asked: dt.date
    day: dt.date
    note: str

    @property
    def due_at(self) -> dt.datetime:
        return clocks.end_of_day(self.day)

    @property
    def moved(self) -> bool:
        return self.day != self.asked


# The last date a typed deadline may name: the forms accept dates up to 9999-12-31, where the
# day's 24:00 (and the next working day) no longer exist.
LATEST_EXPLICIT_DAY = dt.date(2999, 12, 31)


def explicit_last_day(asked: dt.date, calendar: WorkCalendar) -> ExplicitDay:
    """A last day someone entered: on a rest day it moves to the next working day, with a note
    ("原定2026年12月19日为休息日，顺延至2026年12月21日"). A date past LATEST_EXPLICIT_DAY is
    refused with a ValidationError, for every form that takes one (not an HTTP 500)."""
    if asked > LATEST_EXPLICIT_DAY:
        raise ValidationError(f"期限不能晚于{cn_date(LATEST_EXPLICIT_DAY)}")
    day = calendar.next_workday_on_or_after(asked)
    note = "" if day == asked else f"原定{cn_date(asked)}为休息日，顺延至{cn_date(day)}"
    return ExplicitDay(asked, day, note)
