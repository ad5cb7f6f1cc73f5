"""Holiday years the calendar does not know yet, the admins' notice, and the clocks that follow.

`chinese_calendar` learns a year's holidays only from a new release after the State Council's
notice (usually late in the year before). Until then a clock that runs into that year is counted
on weekends plus fixed-date holidays, which may end a deadline in the middle of the Spring
Festival. So:

- `calendar_check` lists the years an open clock (or a matter registered today) may run into
  that neither the library nor an admin covers; admins see it as a banner and in
  `xinfang calendar check`.
- `notice_load` writes an admin's notice (`calendar.parse_notice`) as `HolidayOverride` rows with
  a note. A year with any override row that has a note counts as entered (known).
- `clocks_recompute` recomputes every open clock that a changed day may touch, with the
  clock's own rule (`services.set_due`), and records `case.deadline_changed` with the old and the
  new last day for each one that moves. A deadline never moves earlier than the one already set
  (and told): the later one is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from xinfang.cases import clocks, services
from xinfang.cases.calendar import HolidayNotice, WorkCalendar, unknown_years
from xinfang.cases.deadlines import cn_date, last_day
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, HolidayOverride
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.orgs.models import Role, User

EVENT_KIND = EventKind.DEADLINE_CHANGED
SAMPLE = 20


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or getattr(user, "role", "") == Role.ADMIN
    )


def entered_years() -> set[int]:
    """Years for which an admin has entered the notice (override rows with a note)."""
    return {d.year for d in HolidayOverride.objects.exclude(note="").values_list("date", flat=True)}


def is_known(year: int, entered: Iterable[int] | None = None) -> bool:
    return not unknown_years([year], entered_years() if entered is None else entered)


def horizon_days() -> int:
    """How far a matter registered today may run: the longest clock in days plus an extension."""
    rules = clock_rules()
    longest = 0
    for name, rule in rules.items():
        if name == "extension_max" or rule.kind is clocks.DayKind.HOURS:
            continue
        length = rule.length * 7 // 5 + 4 if rule.kind is clocks.DayKind.WORKING else rule.length
        longest = max(longest, length)
    return longest + rules["extension_max"].length


def open_clocks():
    """Matters with a running clock (not paused): they hold a due time."""
    return Case.objects.exclude(clock="").filter(due_at__isnull=False, paused=False)


def _touching(qs, first: dt.date, last: dt.date):
    """Clocks whose span (start .. last day) touches a day in first..last."""
    return qs.filter(
        due_at__gt=clocks.end_of_day(first - dt.timedelta(days=1)),
        clock_started_at__lt=clocks.end_of_day(last),
    )


@dataclass(frozen=True)
class YearGap:
    year: int
    clocks: int  # open clocks that run into the year
    numbers: list[str]  # the first few of them, soonest due first
    horizon: bool  # a matter registered today may run into it


@dataclass(frozen=True)
class CalendarCheck:
    today: dt.date
    horizon: dt.date
    gaps: list[YearGap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps

    def lines(self) -> list[str]:
        """What an admin reads, in the banner and from `xinfang calendar check`."""
        out = []
        for gap in self.gaps:
            parts = [f"{gap.year}年节假日安排尚未录入（节假日库不含该年）"]
            if gap.clocks:
                parts.append(f"{gap.clocks}个进行中的时限已进入{gap.year}年")
            if gap.horizon:
                parts.append(f"今天登记的事项期限最晚可能到{cn_date(self.horizon)}")
            out.append("，".join(parts) + "；请按国务院办公厅通知录入放假和调休上班日期。")
        return out


def calendar_check(now: dt.datetime | None = None) -> CalendarCheck:
    today = clocks.local_date(now or timezone.now())
    horizon = today + dt.timedelta(days=horizon_days())
    latest = open_clocks().aggregate(m=Max("due_at"))["m"]
    last_year = max(horizon.year, last_day(latest).year if latest else today.year)
    gaps = []
    for year in unknown_years(range(today.year, last_year + 1), entered_years()):
        running = _touching(open_clocks(), dt.date(year, 1, 1), dt.date(year, 12, 31))
        count = running.count()
        in_horizon = horizon.year >= year
        if count or in_horizon:
            numbers = list(
                running.order_by("due_at", "id").values_list("number", flat=True)[:SAMPLE]
            )
            gaps.append(YearGap(year, count, numbers, in_horizon))
    return CalendarCheck(today, horizon, gaps)


# ---------------------------------------------------------------- recompute


@dataclass(frozen=True)
class DeadlineChange:
    number: str
    old_day: dt.date
    new_day: dt.date
    kept: bool  # the new count was earlier: the deadline already set stays


def changed_days(
    before: WorkCalendar, after: WorkCalendar, days: Iterable[dt.date]
) -> list[dt.date]:
    return sorted(d for d in set(days) if before.is_workday(d) != after.is_workday(d))


def clocks_recompute(
    *,
    days: Iterable[dt.date] | None = None,
    by: User | None = None,
    at: dt.datetime | None = None,
    reason: str = "节假日调整",
) -> list[DeadlineChange]:
    """Recompute each open clock that `days` (the days whose rest/work changed; all open clocks
    when None) may touch. A later deadline is saved with a `case.deadline_changed` event; an
    earlier one is not applied (the deadline already set, and told, stays).

    Each matter in its own short transaction under its row lock, so it can be run again.
    """
    at = at or timezone.now()
    qs = open_clocks()
    if days is not None:
        days = sorted(set(days))
        if not days:
            return []
        qs = _touching(qs, days[0], days[-1])
    changes = []
    for pk in qs.order_by("id").values_list("id", flat=True).iterator(chunk_size=2000):
        change = _recompute_one(pk, by=by, at=at, reason=reason)
        if change is not None:
            changes.append(change)
    return changes


def _recompute_one(
    pk: int, *, by: User | None, at: dt.datetime, reason: str
) -> DeadlineChange | None:
    with transaction.atomic():
        case = services.lock_case(Case(pk=pk), None)
        if not case.clock or case.due_at is None or case.paused:
            return None
        old_due = case.due_at
        services.set_due(case)
        new_due = case.due_at
        later_object = _later_object_window(case)
        if new_due is not None and new_due < old_due:  # never earlier than the deadline told
            case.due_at, case.warn_at = (
                old_due,
                clocks.warn_at(old_due, settings.XINFANG_DUE_SOON_DAYS),
            )
            change = DeadlineChange(case.number, last_day(old_due), last_day(new_due), kept=True)
        elif new_due is None or new_due == old_due:
            change = None
        else:
            change = DeadlineChange(case.number, last_day(old_due), last_day(new_due), kept=False)
        if later_object is None and (change is None or change.kept):
            return change
        old_object = case.object_due_at
        if later_object is not None:
            case.object_due_at = later_object
        services.save_case(case)
        if change is not None and not change.kept:
            _record_moved(case, by, at, reason, case.clock, old_due, new_due)
        if later_object is not None:
            _record_moved(case, by, at, reason, "object", old_object, later_object, what="异议期限")
        return change


def _later_object_window(case: Case) -> dt.datetime | None:
    """The 5-working-day objection window (异议期限) under the new calendar, if it ends later."""
    if case.object_due_at is None or case.routed_at is None:
        return None
    new = clocks.rule_due_at(clock_rules()["object"], case.routed_at, work_calendar())
    return new if new > case.object_due_at else None


def _record_moved(case, by, at, reason, clock, old_due, new_due, what: str = "期限") -> None:
    old_day, new_day = last_day(old_due), last_day(new_due)
    services.record_event(
        case,
        EVENT_KIND,
        at,
        by,
        public=clock != "object",  # the objection window is the unit's, not the petitioner's
        clock=clock,
        old_due=services.iso_time(old_due),
        new_due=services.iso_time(new_due),
        old_last_day=old_day.isoformat(),
        new_last_day=new_day.isoformat(),
        note=f"因{reason}，{what}由{cn_date(old_day)}顺延至{cn_date(new_day)}",
    )


# ---------------------------------------------------------------- the admins' notice


@dataclass(frozen=True)
class LoadResult:
    years: list[int]
    rows: int
    changed_days: list[dt.date]
    changes: list[DeadlineChange]

    @property
    def moved(self) -> list[DeadlineChange]:
        return [c for c in self.changes if not c.kept]

    def summary(self) -> str:
        years = "、".join(f"{y}年" for y in self.years)
        text = f"已录入{years}节假日安排{self.rows}天"
        if self.moved:
            text += f"，{len(self.moved)}个进行中的期限已顺延"
        kept = len(self.changes) - len(self.moved)
        if kept:
            text += f"，{kept}个期限按新安排会提前，已保持原期限不变"
        return text + "。"


def notice_load(
    *, notice: HolidayNotice, by: User | None = None, at: dt.datetime | None = None
) -> LoadResult:
    """Write a year's notice, replacing that year's override rows, then recompute the clocks it
    touches. Each row carries a note, which marks the year as entered."""
    before = work_calendar()
    years = notice.years
    with transaction.atomic():
        old = HolidayOverride.objects.filter(date__year__in=years)
        old_days = list(old.values_list("date", flat=True))
        old.delete()  # row by row, so the calendar cache hears of it (post_delete)
        for day, is_workday in sorted(notice.days.items()):
            HolidayOverride.objects.create(date=day, is_workday=is_workday, note=notice.notes[day])
    after = work_calendar()
    days = changed_days(before, after, [*old_days, *notice.days])
    changes = clocks_recompute(days=days, by=by, at=at)
    return LoadResult(years, len(notice.days), days, changes)


def override_changed(
    *, days: Iterable[dt.date], before: WorkCalendar, by: User | None = None
) -> list[DeadlineChange]:
    """After an admin edits override rows one by one (the admin site): recompute what they touch."""
    return clocks_recompute(days=changed_days(before, work_calendar(), days), by=by)
