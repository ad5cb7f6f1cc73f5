"""处理结果报告: one matter's handling on paper, for the file or a supervisor — the basic facts,
the timeline in brief, the reply, the petitioner's rating and the review results — in the
national document layout (xinfang/lib/gbt9704.py, as the notices).

Everything comes from the case row and its events. The petitioner is named only to a viewer
who may see them (`access.can_see_petitioner`, as the notices do); the ID number and phone are
never printed, and any typed into a free text are masked.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinfang.cases import access, clocks
from xinfang.cases.events import EventKind, label
from xinfang.cases.models import Case, CaseEvent, Channel, Kind, Outcome, Rating, State
from xinfang.cases.notices import BODY_FONT, TITLE_FONT, _sentences
from xinfang.cases.selectors import case_timeline, cn_date
from xinfang.lib import gbt9704
from xinfang.orgs.models import User

TITLE = "信访事项处理结果报告"
CONFIDENTIAL = "（保密）"
_OUTCOMES = dict(Outcome.choices)


def filename(case: Case) -> str:
    return f"{case.number}-处理结果报告.docx"


def _petitioner(case: Case, viewer: User) -> str:
    if case.anonymous or not case.petitioner_name:
        return "匿名"
    if not access.can_see_petitioner(viewer, case, known_visible=True):
        return CONFIDENTIAL
    return (
        f"{case.petitioner_name}等{case.group_size}人"
        if case.group_size > 1
        else case.petitioner_name
    )


def _day(moment: dt.datetime | None) -> str:
    return cn_date(clocks.local_date(moment)) if moment else "—"


def _latest(events: list[CaseEvent], kind: str) -> CaseEvent | None:
    found = [e for e in events if e.kind == kind]
    return found[-1] if found else None


def _facts(case: Case, viewer: User) -> list[str]:
    category = ""
    if case.category_id:
        parent = case.category.parent
        category = f"{parent.name}/{case.category.name}" if parent else case.category.name
    return [
        f"事项编号：{case.number}",
        f"登记时间：{_day(case.registered_at)}（{dict(Channel.choices).get(case.channel, case.channel)}）",
        f"事项类型：{dict(Kind.choices).get(case.kind, case.kind)}",
        f"事项标题：{' '.join(_sentences(case, case.title)).rstrip('。')}",
        f"问题属地：{case.place.name if case.place_id else '—'}；事项分类：{category or '—'}",
        f"信访人：{_petitioner(case, viewer)}",
        f"登记机构：{case.office.name}；主办单位：{case.lead_unit.name if case.lead_unit_id else '—'}",
        f"当前状态：{dict(State.choices).get(case.state, case.state)}",
    ]


def _decision(case: Case, events: list[CaseEvent], kind: str, outcome: str, what: str) -> list[str]:
    event = _latest(events, kind)
    if event is None:
        return []
    head = f"{_day(event.at)}，{event.unit.name if event.unit_id else ''}作出{what}：{_OUTCOMES.get(outcome, '—')}。"
    return [head, *_sentences(case, event.details.get("text", ""))]


def report_sections(case: Case, viewer: User) -> list[tuple[str, list[str] | list[list[str]]]]:
    """The report as data: (heading, paragraphs) and one (heading, table rows) for the timeline."""
    events = list(case_timeline(case))
    timeline = [
        [
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
            label(e.kind),
            e.unit.name if e.unit_id else "",
        ]
        for e in events
    ]
    replied = _latest(events, EventKind.REPLIED)
    reply = (
        ["尚未答复。"]
        if replied is None
        else [
            f"{_day(replied.at)}，{replied.unit.name if replied.unit_id else case.lead_unit}作出答复，"
            f"处理结果：{_OUTCOMES.get(case.outcome, '—')}。",
            *_sentences(case, replied.details.get("text", "")),
        ]
    )
    rated = _latest(events, EventKind.RATED)
    rating = (
        ["信访人尚未评价。"]
        if not case.rating
        else [
            f"{_day(rated.at if rated else None)}，信访人评价：{dict(Rating.choices).get(case.rating, case.rating)}。"
        ]
    )
    review = _decision(case, events, EventKind.REVIEW_DECIDED, case.review_outcome, "复查意见")
    review += _decision(case, events, EventKind.REREVIEW_DECIDED, case.rereview_outcome, "复核意见")
    if not review:
        asked = _latest(events, EventKind.REVIEW_REQUESTED)
        review = [
            f"{_day(asked.at)}申请复查，尚未作出复查意见。" if asked else "信访人未申请复查。"
        ]
    return [
        ("一、基本情况", _facts(case, viewer)),
        ("二、办理经过", timeline),
        ("三、处理结果", reply),
        ("四、评价情况", rating),
        ("五、复查复核情况", review),
    ]


def render(case: Case, *, viewer: User, today: dt.date | None = None) -> bytes:
    """The report as a .docx file, for `viewer` (who may see the matter: `access.case_for_user`)."""
    today = today or timezone.localdate()
    issuer = (case.lead_unit or case.office).name
    doc = gbt9704.new_document(body_font=BODY_FONT)
    gbt9704.title(doc, TITLE, font=TITLE_FONT)
    gbt9704.add(doc, "")
    for heading, body in report_sections(case, viewer):
        gbt9704.heading(doc, heading)
        if body and isinstance(body[0], list):
            gbt9704.table(doc, ["时间", "环节", "单位"], body, font=BODY_FONT)
        for line in body if not body or isinstance(body[0], str) else []:
            gbt9704.add(doc, line, font=BODY_FONT, first_line=2)
    gbt9704.add(doc, "")
    gbt9704.signature(doc, issuer, cn_date(today), font=BODY_FONT)
    return gbt9704.to_bytes(doc, title=TITLE, subject=case.number, author=issuer, date=today)
