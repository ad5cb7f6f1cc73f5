"""The statutory clocks (时限), as pure, table-driven functions.

Counting follows the general rule for legal periods (民法典 第二百零一条、第二百零三条):
the day a period starts is not counted; a period in days that ends on a rest day ends on the
next working day instead; the last day runs to 24:00. Periods in working days count only
working days. Periods in hours run by the clock. Paused days (a hearing, a pending expert
finding) are added back, and only a recorded pause may do that.

Every length is configuration: `settings.XINFANG_CLOCKS` may override any entry of
`DEFAULT_CLOCKS`, e.g. {"handle": {"length": 90}}.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from xinfang.cases.calendar import WorkCalendar

LOCAL = ZoneInfo("Asia/Shanghai")


class DayKind(enum.StrEnum):
    CALENDAR = "calendar"  # 自然日
    WORKING = "working"  # 工作日
    HOURS = "hours"  # 小时


@dataclass(frozen=True)
class ClockRule:
    """One clock: what it is for and how long it runs."""

    label: str
    length: int
    kind: DayKind


DEFAULT_CLOCKS: dict[str, ClockRule] = {
    "route": ClockRule("转送交办", 15, DayKind.CALENDAR),
    "accept": ClockRule("受理告知", 15, DayKind.CALENDAR),
    "object": ClockRule("异议退回", 5, DayKind.WORKING),
    "handle": ClockRule("办理答复", 60, DayKind.CALENDAR),
    "extension_max": ClockRule("延期上限", 30, DayKind.CALENDAR),
    "review_request": ClockRule("申请复查", 30, DayKind.CALENDAR),
    "review_decide": ClockRule("复查决定", 30, DayKind.CALENDAR),
    "rereview_request": ClockRule("申请复核", 30, DayKind.CALENDAR),
    "rereview_decide": ClockRule("复核决定", 30, DayKind.CALENDAR),
    "hotline_enquiry": ClockRule("12345咨询", 2, DayKind.WORKING),
    "hotline_help": ClockRule("12345求助", 10, DayKind.WORKING),
    "hotline_suggestion": ClockRule("12345建议", 10, DayKind.WORKING),
    "hotline_complaint": ClockRule("12345投诉", 15, DayKind.WORKING),
    "hotline_report": ClockRule("12345举报", 15, DayKind.WORKING),
    "hotline_emergency": ClockRule("12345紧急", 2, DayKind.HOURS),
    "hotline_outage": ClockRule("12345水电气停供", 24, DayKind.HOURS),
}


def clock_table(
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, ClockRule]:
    """The clock table with configured overrides applied."""
    table = dict(DEFAULT_CLOCKS)
    for name, changes in (overrides or {}).items():
        if name not in table:
            raise KeyError(f"未知的时限名称：{name}")
        rule = table[name]
        kind = DayKind(changes.get("kind", rule.kind))
        table[name] = replace(rule, length=int(changes.get("length", rule.length)), kind=kind)
    return table


def period_text(rule: ClockRule) -> str:
    """How long a clock runs, as a notice or a citizen reads it: 15日, 5个工作日, 2小时."""
    unit = {DayKind.WORKING: "个工作日", DayKind.HOURS: "小时"}.get(rule.kind, "日")
    return f"{rule.length}{unit}"


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """24:00 of `day` in Beijing time, i.e. the first instant of the next day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL)


def due_at(
    start: dt.datetime,
    length: int,
    kind: DayKind,
    calendar: WorkCalendar,
    paused_days: int = 0,
) -> dt.datetime:
    """When a clock that started at `start` runs out (an aware datetime, Beijing 24:00 for days)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if kind is DayKind.HOURS:
        return start + dt.timedelta(hours=length)
    first = local_date(start)
    if kind is DayKind.WORKING:
        last = calendar.add_workdays(first, length + paused_days)
    else:
        last = calendar.next_workday_on_or_after(first + dt.timedelta(days=length + paused_days))
    return end_of_day(last)


def rule_due_at(
    rule: ClockRule, start: dt.datetime, calendar: WorkCalendar, paused_days: int = 0
) -> dt.datetime:
    return due_at(start, rule.length, rule.kind, calendar, paused_days)


@dataclass(frozen=True)
class Pause:
    """A recorded pause of a clock (e.g. 听证, 鉴定). `end` is None while it lasts."""

    start: dt.datetime
    end: dt.datetime | None
    reason: str


def paused_days(pauses: Iterable[Pause]) -> int:
    """Calendar days a clock stood still: every date a closed pause touched.

    A hearing held on one day adds one day; one that ran from the 5th to the 8th adds four.
    A pause still open adds nothing yet: while it lasts the clock shows no deadline at all.
    """
    return sum(
        (local_date(p.end) - local_date(p.start)).days + 1 for p in pauses if p.end is not None
    )


class DueState(enum.StrEnum):
    NONE = "none"
    RUNNING = "running"  # 正常
    DUE_SOON = "due_soon"  # 即将到期
    OVERDUE = "overdue"  # 已超期


DUE_STATE_LABELS = {
    DueState.NONE: "",
    DueState.RUNNING: "正常",
    DueState.DUE_SOON: "即将到期",
    DueState.OVERDUE: "已超期",
}


def warn_at(due: dt.datetime, warn_days: int) -> dt.datetime:
    """When a clock starts to show as due soon: `warn_days` calendar days before it runs out."""
    return due - dt.timedelta(days=warn_days)


def due_state(due: dt.datetime | None, now: dt.datetime, warn_days: int) -> DueState:
    if due is None:
        return DueState.NONE
    if now >= due:
        return DueState.OVERDUE
    if now >= warn_at(due, warn_days):
        return DueState.DUE_SOON
    return DueState.RUNNING
