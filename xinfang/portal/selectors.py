"""What a citizen sees of a matter: the public timeline, the deadlines owed, the open windows.

Nothing personal: no petitioner data (free texts are scrubbed of the petitioner's name,
resident ID and phone numbers), no staff names; units appear by name, which is public.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from xinfang.cases import clocks
from xinfang.cases import events as events_vocabulary
from xinfang.cases.events import EventKind
from xinfang.cases.models import HOTLINE_KINDS, Case, CaseEvent, State
from xinfang.cases.notices import NOTICE_KINDS, available_notices
from xinfang.cases.scrub import scrub_personal_data
from xinfang.cases.selectors import (
    case_timeline,
    clock_rules,
    cn_date,  # noqa: F401 - the portal's views read it here
    last_day,
    work_calendar,
)
from xinfang.cases.workflow import OPEN_AFTER_REPLY


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


def _scrubber(case: Case) -> Callable[[str], str]:
    """Free text fit for the public page: no names, resident IDs or phones of the petitioner.
    The names are read once per matter, not once per text."""
    names = [case.petitioner_name, *case.representatives.values_list("name", flat=True)]
    known = [case.petitioner_id_number, case.petitioner_phone]

    def scrub_text(text: str) -> str:
        for name in names:
            if name and len(name.strip()) >= 2:
                text = text.replace(name.strip(), "**")
        # the one scrubber (full-width digits, spaced and dotted numbers, e-mails), as Open311 uses
        return scrub_personal_data(text, known=known)

    return scrub_text


def public_timeline(case: Case, events: list[CaseEvent]) -> list[Entry]:
    """The citizen's lines of each public event, worded by the event vocabulary (EVENTS)."""
    entries, scrub_text = [], _scrubber(case)
    for event in events:
        text = events_vocabulary.text_of(event.kind)
        if text is None or text.citizen is None:
            continue  # not for the citizen
        fields = events_vocabulary.event_fields(event, scrub=scrub_text, case=case)
        title, lines = events_vocabulary.citizen_lines(text, fields)
        entries.append(Entry(event.at, title, lines))
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
        if k == EventKind.REGISTERED:
            self.start("route", event.at)
        elif k == EventKind.ROUTED:
            if self.current is not None and self.current.clock == "route":
                self.close(event)
            self.start(_hotline_clock(self.case) if hotline else "accept", event.at)
        elif k == EventKind.ACCEPTED and not hotline:
            self.close(event)
            self.start("handle", event.at)
        elif k in {
            EventKind.DECLINED,
            EventKind.NOT_ACCEPTED_AGAIN,
            EventKind.REPLIED,
            EventKind.REVIEW_DECIDED,
            EventKind.REREVIEW_DECIDED,
        }:
            self.close(event)
        elif k == EventKind.EXTENDED and self.current is not None:
            self.current.due = _parse(d.get("new_due")) or self.current.due
            self.current.note = f"已延期{d.get('days', '')}日"
        elif k == EventKind.RESUMED and self.current is not None:
            self.current.due = _parse(d.get("new_due")) or self.current.due
        elif (
            k == EventKind.DEADLINE_CHANGED
            and self.current is not None
            and d.get("clock") == self.current.clock
        ):
            new_due = _parse(d.get("new_due"))
            if new_due and (self.current.due is None or new_due > self.current.due):
                self.current.due = new_due  # only ever later than the deadline already told
        elif k == EventKind.REVIEW_REQUESTED:
            self.start("review_decide", event.at)
        elif k == EventKind.REREVIEW_REQUESTED:
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
    if case.state == State.FINAL and any(e.kind == EventKind.FINALIZED for e in events):
        decisions = [e for e in events if e.kind in {EventKind.REPLIED, EventKind.REVIEW_DECIDED}]
        if not decisions:
            return None
        last = decisions[-1]
        action, clock = (
            ("rereview", "rereview_request")
            if last.kind == EventKind.REVIEW_DECIDED
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
