"""Working days (工作日) on the official Chinese calendar, swapped weekends (调休) included.

The State Council publishes each year's holidays late in the year before; `chinese_calendar`
carries them. For a year it does not know yet, admins enter the days in the override table
(`HolidayOverride`); until then such a year falls back to plain weekends plus the fixed-date
statutory holidays, and `is_known_year` says so. A year an admin has entered from the State
Council's notice (`parse_notice`, rows with a note) counts as known (`xinfang.cases.holidays`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
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


# ---------------------------------------------------------------- the year's notice, as text

NOTICE_EXAMPLE = """# 国务院办公厅关于2027年部分节假日安排的通知
元旦 放假 2027-01-01 至 2027-01-03
春节 放假 2027-02-06 至 2027-02-14
春节 调休上班 2027-02-15、2027-02-20
"""

_REST_WORDS = ("放假", "休息", "休假")
_WORK_WORDS = ("调休上班", "上班", "补班")
_KEYWORD = re.compile(
    "(" + "|".join(sorted(_REST_WORDS + _WORK_WORDS, key=len, reverse=True)) + ")"
)
_DATE = re.compile(r"(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?")
_RANGE = re.compile(r"\s*(?:至|到|~|～|—|–)\s*")
_LIST = re.compile(r"[、，,；;\s]+")
_YEAR_LINE = re.compile(r"^(?:年份\s*[:：]?\s*)?(\d{4})\s*年?$")
MAX_RANGE_DAYS = 31


class NoticeError(ValueError):
    """The notice could not be read; `problems` says where, one line each, in Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class HolidayNotice:
    """A year's holiday arrangement: each listed date is a rest day (False) or a working day (True).

    `notes` names the holiday a date belongs to ("春节"), or the notice's title.
    """

    days: Mapping[dt.date, bool]
    notes: Mapping[dt.date, str]

    @property
    def years(self) -> list[int]:
        return sorted({day.year for day in self.days})


def _date(text: str, year: int | None) -> dt.date:
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"无法识别的日期“{text.strip()}”，请写成 2027-02-11")
    y = int(match["y"]) if match["y"] else year
    if y is None:
        raise ValueError(f"日期“{text.strip()}”缺少年份")
    try:
        return dt.date(y, int(match["m"]), int(match["d"]))
    except ValueError:
        raise ValueError(f"日期“{text.strip()}”不存在") from None


def _dates(text: str, year: int | None) -> list[dt.date]:
    """ "2027-02-11 至 2027-02-17", "2027-02-08、2027-02-20", "2月11日至17日"."""
    found: list[dt.date] = []
    parts = _RANGE.split(text.strip())
    if len(parts) == 2:
        start = _date(parts[0], year)
        end_text = parts[1].strip()
        if re.fullmatch(r"\d{1,2}\s*日?", end_text):  # "2月11日至17日"
            end_text = f"{start.month}月{end_text.rstrip('日')}日"
        end = _date(end_text, start.year)
        if end < start:
            raise ValueError(f"结束日期{end:%Y-%m-%d}早于开始日期{start:%Y-%m-%d}")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise ValueError(f"日期段超过{MAX_RANGE_DAYS}天，请检查")
        found = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    elif len(parts) == 1:
        found = [_date(piece, year) for piece in _LIST.split(parts[0]) if piece]
    else:
        raise ValueError("一行只能写一个日期段")
    if not found:
        raise ValueError("缺少日期")
    return found


def parse_notice(text: str, *, title: str = "") -> HolidayNotice:
    """Read a year's notice written as lines of date ranges.

    Each line: an optional holiday name, 放假 (rest) or 调休上班 (working day), then dates: a range
    "2027-02-11 至 2027-02-17" or a list "2027-02-08、2027-02-20". Lines starting with # are
    comments; a line "2027年" sets the year for dates written without one ("2月11日至17日").
    Raises NoticeError naming every bad line.
    """
    days: dict[dt.date, bool] = {}
    notes: dict[dt.date, str] = {}
    seen: dict[dt.date, int] = {}
    problems: list[str] = []
    year: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if year_match := _YEAR_LINE.match(line):
            year = int(year_match[1])
            continue
        keyword = _KEYWORD.search(line)
        if not keyword:
            problems.append(f"第{number}行：请写明“放假”或“调休上班”")
            continue
        name = line[: keyword.start()].strip(" ：:，,")
        rest = line[keyword.end() :].strip(" ：:")
        is_workday = keyword[1] in _WORK_WORDS
        try:
            dates = _dates(rest, year)
        except ValueError as exc:
            problems.append(f"第{number}行：{exc}")
            continue
        for day in dates:
            if day in days and days[day] != is_workday:
                problems.append(
                    f"第{number}行：{day:%Y-%m-%d}在第{seen[day]}行已写为"
                    f"{'上班' if days[day] else '放假'}，不能同时{'上班' if is_workday else '放假'}"
                )
                continue
            days[day], seen[day] = is_workday, number
            notes[day] = (name or title or f"{day.year}年节假日安排")[:60]
    if problems:
        raise NoticeError(problems)
    if not days:
        raise NoticeError(["没有读到任何日期"])
    return HolidayNotice(days=days, notes=notes)


def unknown_years(years: Iterable[int], confirmed: Iterable[int] = ()) -> list[int]:
    """Those of `years` that neither the library nor an admin's entered notice covers."""
    entered = set(confirmed)
    return sorted(y for y in set(years) if y not in entered and not WorkCalendar.is_known_year(y))
