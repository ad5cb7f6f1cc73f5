"""What a citizen sees of a matter: the public timeline, the deadlines owed, the open windows.

Nothing personal: no petitioner data (free texts are scrubbed of the petitioner's name,
resident ID and phone numbers), no staff names; units appear by name, which is public.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from xinfang.cases import clocks
from xinfang.cases.models import (
    HOTLINE_KINDS,
    Case,
    CaseEvent,
    Channel,
    Outcome,
    Rating,
    RouteMode,
    State,
)
from xinfang.cases.notices import NOTICE_KINDS, available_notices
from xinfang.cases.scrub import scrub_personal_data
from xinfang.cases.selectors import case_timeline, clock_rules, cn_date, last_day, work_calendar
from xinfang.cases.workflow import OPEN_AFTER_REPLY


def scrub(case: Case, text: str) -> str:
    """Free text fit for the public page: no names, resident IDs or phones of the petitioner."""
    text = str(text or "")
    names = [case.petitioner_name, *case.representatives.values_list("name", flat=True)]
    for name in names:
        if name and len(name.strip()) >= 2:
            text = text.replace(name.strip(), "**")
    # the one scrubber (full-width digits, spaced and dotted numbers, e-mails), as Open311 uses
    return scrub_personal_data(text, known=[case.petitioner_id_number, case.petitioner_phone])


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else ""


def _parse(value) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the timeline


@dataclass
class Entry:
    at: dt.datetime
    title: str
    lines: list[str] = field(default_factory=list)


def _routed(case: Case, d: dict, at: dt.datetime) -> Entry:
    verb = "交办" if d.get("mode") == RouteMode.ASSIGN else "转送"
    lines = [f"办理单位：{d.get('unit', '')}"]
    if d.get("co_units"):
        lines.append("协办单位：" + "、".join(d["co_units"]))
    return Entry(at, f"已{verb}{d.get('unit', '')}办理", lines)


def _reply_lines(case: Case, d: dict) -> list[str]:
    lines = [f"处理结果：{_label(Outcome, d.get('outcome', ''))}"]
    lines += [line for line in scrub(case, d.get("text", "")).splitlines() if line.strip()]
    return lines


def _entry(case: Case, event: CaseEvent) -> Entry | None:
    d, k = event.details or {}, event.kind
    if k == "case.registered":
        return Entry(
            event.at, "事项已登记", [f"来源：{_label(Channel, d.get('channel', case.channel))}"]
        )
    if k == "case.routed":
        return _routed(case, d, event.at)
    if k == "case.accepted":
        return Entry(event.at, f"{d.get('unit') or '办理单位'}已受理")
    if k == "case.declined":
        return Entry(
            event.at,
            "不予受理",
            [
                f"理由：{scrub(case, d.get('reason', ''))}",
                f"请通过以下法定途径解决：{scrub(case, d.get('proper_channel', ''))}",
            ],
        )
    if k == "case.not_accepted_again":
        lines = [f"与已终结的信访事项{d.get('prior', '')}系同一事实和理由，依法不再受理"]
        if d.get("reason"):
            lines.append(f"说明：{scrub(case, d['reason'])}")
        return Entry(event.at, "不再受理", lines)
    if k == "case.extended":
        new_due = _parse(d.get("new_due"))
        lines = [f"延期理由：{scrub(case, d.get('reason', ''))}"]
        if new_due:
            lines.append(f"新的办理期限：{cn_date(last_day(new_due))}")
        return Entry(event.at, f"办理期限延长{d.get('days', '')}日", lines)
    if k == "case.replied":
        return Entry(event.at, "已作出处理意见（答复）", _reply_lines(case, d))
    if k == "case.rated":
        return Entry(event.at, f"您已评价：{_label(Rating, d.get('rating', ''))}")
    if k == "case.review_requested":
        return Entry(event.at, "已申请复查", [f"复查机关：{d.get('review_unit', '')}"])
    if k == "case.review_decided":
        return Entry(event.at, "已作出复查意见", _reply_lines(case, d))
    if k == "case.rereview_requested":
        return Entry(event.at, "已申请复核", [f"复核机关：{d.get('rereview_unit', '')}"])
    if k == "case.rereview_decided":
        return Entry(event.at, "已作出复核意见（三级终结）", _reply_lines(case, d))
    if k == "case.paused":
        return Entry(event.at, "办理期限中止计时", [f"事由：{scrub(case, d.get('reason', ''))}"])
    if k == "case.resumed":
        new_due = _parse(d.get("new_due"))
        return Entry(
            event.at, "恢复计时", [f"新的期限：{cn_date(last_day(new_due))}"] if new_due else []
        )
    if k == "case.deadline_changed":
        new_due = _parse(d.get("new_due"))
        return Entry(
            event.at,
            "因节假日调整，期限顺延",
            [f"新的期限：{cn_date(last_day(new_due))}"] if new_due else [],
        )
    if k == "case.finalized":
        return Entry(event.at, "申请期限届满，处理意见已生效，事项办结")
    if k == "case.repeat_received":
        if d.get("notice") == "not_accepted_again":
            return Entry(
                event.at, "收到重复提交的诉求", ["该事项已办结，同一事实和理由依法不再受理"]
            )
        return Entry(event.at, "收到重复提交的诉求", ["已并入本事项一并办理"])
    return None  # anything else is not for the citizen


def public_timeline(case: Case, events: list[CaseEvent]) -> list[Entry]:
    entries = []
    for event in events:
        entry = _entry(case, event)
        if entry is not None:
            entry.at = event.at
            entries.append(entry)
    return entries


# ---------------------------------------------------------------- the deadlines owed


@dataclass
class Deadline:
    """One deadline the office owed or owes the citizen, and whether it was met."""

    clock: str
    label: str
    due: dt.datetime | None
    status: str = "running"  # met | missed | running | due_soon | overdue | paused
    note: str = ""

    @property
    def last_day(self) -> dt.date | None:
        return last_day(self.due) if self.due else None

    @property
    def status_label(self) -> str:
        return {
            "met": "按期完成",
            "missed": "超期完成",
            "running": "办理中",
            "due_soon": "即将到期",
            "overdue": "已超期",
            "paused": "中止计时",
        }[self.status]


def _hotline_clock(case: Case) -> str:
    return f"hotline_{case.urgency}" if case.urgency else case.kind


class _Clocks:
    """Walks the public events and keeps the deadline now running."""

    LABELS = {
        "route": "登记后{p}内转送、交办",
        "accept": "收到后{p}内决定是否受理",
        "handle": "受理后{p}内办结并答复",
        "review_decide": "收到复查申请后{p}内作出复查意见",
        "rereview_decide": "收到复核申请后{p}内作出复核意见",
    }

    def __init__(self, case: Case):
        self.case, self.rules, self.calendar = case, clock_rules(), work_calendar()
        self.done: list[Deadline] = []
        self.current: Deadline | None = None

    def start(self, clock: str, at: dt.datetime) -> None:
        rule = self.rules[clock]
        template = self.LABELS.get(clock, "派单后{p}内办结（12345）")
        due = clocks.rule_due_at(rule, at, self.calendar)
        self.current = Deadline(clock, template.format(p=clocks.period_text(rule)), due)

    def close(self, event: CaseEvent) -> None:
        if self.current is not None:
            self.current.status = "met" if event.details.get("on_time", True) else "missed"
            self.done.append(self.current)
        self.current = None

    def feed(self, event: CaseEvent) -> None:
        k, d, hotline = event.kind, event.details or {}, self.case.kind in HOTLINE_KINDS
        if k == "case.registered":
            self.start("route", event.at)
        elif k == "case.routed":
            if self.current is not None and self.current.clock == "route":
                self.close(event)
            self.start(_hotline_clock(self.case) if hotline else "accept", event.at)
        elif k == "case.accepted" and not hotline:
            self.close(event)
            self.start("handle", event.at)
        elif k in {
            "case.declined",
            "case.not_accepted_again",
            "case.replied",
            "case.review_decided",
            "case.rereview_decided",
        }:
            self.close(event)
        elif k == "case.extended" and self.current is not None:
            self.current.due = _parse(d.get("new_due")) or self.current.due
            self.current.note = f"已延期{d.get('days', '')}日"
        elif k == "case.resumed" and self.current is not None:
            self.current.due = _parse(d.get("new_due")) or self.current.due
        elif (
            k == "case.deadline_changed"
            and self.current is not None
            and d.get("clock") == self.current.clock
        ):
            new_due = _parse(d.get("new_due"))
            if new_due and (self.current.due is None or new_due > self.current.due):
                self.current.due = new_due  # only ever later than the deadline already told
        elif k == "case.review_requested":
            self.start("review_decide", event.at)
        elif k == "case.rereview_requested":
            self.start("rereview_decide", event.at)

    def result(self, now: dt.datetime) -> list[Deadline]:
        out = list(self.done)
        current = self.current
        if current is not None:
            if self.case.paused:
                current.status = "paused"
            else:
                if self.case.clock == current.clock and self.case.due_at:
                    current.due = self.case.due_at  # the stored deadline counts recorded pauses
                from django.conf import settings

                state = clocks.due_state(current.due, now, settings.XINFANG_DUE_SOON_DAYS)
                current.status = {"overdue": "overdue", "due_soon": "due_soon"}.get(
                    state, "running"
                )
            out.append(current)
        return out


def deadlines(case: Case, events: list[CaseEvent], now: dt.datetime) -> list[Deadline]:
    walker = _Clocks(case)
    for event in events:
        walker.feed(event)
    return walker.result(now)


# ---------------------------------------------------------------- the citizen's own windows


@dataclass
class Window:
    """The citizen's window to ask for review (复查) or re-review (复核)."""

    action: str  # "review" | "rereview"
    due: dt.datetime | None
    open: bool

    @property
    def label(self) -> str:
        return "复查" if self.action == "review" else "复核"

    @property
    def last_day(self) -> dt.date | None:
        return last_day(self.due) if self.due else None


def review_window(case: Case, events: list[CaseEvent], now: dt.datetime) -> Window | None:
    """The review or re-review window that is open now, or that closed unused; None otherwise."""
    if case.state == State.REPLIED:
        return Window("review", case.due_at, case.due_at is None or now < case.due_at)
    if case.state == State.REVIEWED:
        return Window("rereview", case.due_at, case.due_at is None or now < case.due_at)
    if case.state == State.FINAL and any(e.kind == "case.finalized" for e in events):
        decisions = [e for e in events if e.kind in {"case.replied", "case.review_decided"}]
        if not decisions:
            return None
        last = decisions[-1]
        action, clock = (
            ("rereview", "rereview_request")
            if last.kind == "case.review_decided"
            else ("review", "review_request")
        )
        due = clocks.rule_due_at(clock_rules()[clock], last.at, work_calendar())
        return Window(action, due, False)
    return None


def can_rate(case: Case) -> bool:
    return case.state in OPEN_AFTER_REPLY and not case.rating


@dataclass
class PublicCase:
    """Everything the public case page shows."""

    number: str
    kind: str
    channel: str
    place: str
    state: str
    registered_at: dt.datetime
    lead_unit: str
    timeline: list[Entry]
    deadlines: list[Deadline]
    window: Window | None
    can_rate: bool
    rating: str
    notices: list[tuple[str, str]]


def public_case(case: Case, now: dt.datetime | None = None) -> PublicCase:
    now = now or timezone.now()
    events = list(case_timeline(case, public_only=True))
    return PublicCase(
        number=case.number,
        kind=case.get_kind_display(),
        channel=case.get_channel_display(),
        place=case.place.name if case.place_id else "",
        state=case.get_state_display(),
        registered_at=case.registered_at,
        lead_unit=case.lead_unit.name if case.lead_unit_id else "",
        timeline=public_timeline(case, events),
        deadlines=deadlines(case, events, now),
        window=review_window(case, events, now),
        can_rate=can_rate(case),
        rating=case.get_rating_display() if case.rating else "",
        notices=[(slug, NOTICE_KINDS[slug][0]) for slug in available_notices(case)],
    )
