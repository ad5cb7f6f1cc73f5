"""Official notices (信访文书) as Word documents in the national layout (GB/T 9704-2012).

Seven notices, each made available by one event on the matter's timeline:

=================  ===========================================================
受理告知书         case.accepted
不予受理告知书     case.declined (reason and the proper channel)
不再受理告知书     case.not_accepted_again, or a repeat submission about a
                   matter already closed (case.repeat_received)
延期告知书         case.extended (days, reason, old and new due dates)
处理意见书         case.replied (支持 / 解释 / 不予支持 and the text)
复查意见书         case.review_decided
复核意见书         case.rereview_decided
=================  ===========================================================

Everything printed comes from the case row and its events; nothing is typed twice, and
the petitioner's resident ID number and phone are never printed (any that an officer
typed into a free text is masked).

Layout (GB/T 9704-2012): A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
22 lines of 28 characters (fixed line pitch, character grid); body 3号仿宋; title 2号小标宋,
centred; page numbers "— 1 —" in 4号 half-width 宋体 at the outside edge, 7 mm below the
type area.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from docx.enum.text import WD_ALIGN_PARAGRAPH

from xinfang.cases import access, clocks
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent, Channel, Outcome, State
from xinfang.cases.selectors import clock_rules, cn_date, last_day, work_calendar
from xinfang.cases.services import clock_plan
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.lib import gbt9704
from xinfang.orgs.models import Unit, User

# slug -> (title, the event that makes the notice available)
NOTICE_KINDS: dict[str, tuple[str, str]] = {
    "accept": ("受理告知书", EventKind.ACCEPTED),
    "decline": ("不予受理告知书", EventKind.DECLINED),
    "not_accept_again": ("不再受理告知书", EventKind.NOT_ACCEPTED_AGAIN),
    "extend": ("延期告知书", EventKind.EXTENDED),
    "reply": ("处理意见书", EventKind.REPLIED),
    "review": ("复查意见书", EventKind.REVIEW_DECIDED),
    "rereview": ("复核意见书", EventKind.REREVIEW_DECIDED),
}
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# A repeat submission about a closed matter is answered with a 不再受理告知书 too.
REPEAT_EVENT = EventKind.REPEAT_RECEIVED
REPEAT_NOTICE = "not_accept_again"

# 发文字号的类型代字: distinct per notice, so two notices on one matter never share a number.
_NUMBER_CODES = {
    "accept": "信受告",
    "decline": "信不受告",
    "not_accept_again": "信不再受告",
    "extend": "信延告",
    "reply": "信处",
    "review": "信复查",
    "rereview": "信复核",
}
# What has not happened yet, for the error when a notice is asked for too early.
_MISSING = {
    "accept": "尚未受理",
    "decline": "未作出不予受理决定",
    "not_accept_again": "未作出不再受理决定",
    "extend": "未延期",
    "reply": "尚未答复",
    "review": "尚未作出复查意见",
    "rereview": "尚未作出复核意见",
}

# ---------------------------------------------------------------- layout (GB/T 9704-2012)

# The layout itself is xinfang/lib/gbt9704.py (shared with the reports); an office may name
# other installed fonts for the body and the title.
BODY_FONT = getattr(settings, "XINFANG_NOTICE_BODY_FONT", gbt9704.BODY_FONT)
TITLE_FONT = getattr(settings, "XINFANG_NOTICE_TITLE_FONT", gbt9704.TITLE_FONT)


# ---------------------------------------------------------------- what a notice says


@dataclass
class NoticeText:
    """The content of one notice, before layout."""

    title: str
    number: str
    addressee: str
    paragraphs: list[str]
    issuer: str
    date: dt.date
    closing: list[str] = field(default_factory=list)


def _events(case: Case) -> list[CaseEvent]:
    kinds = [kind for _, kind in NOTICE_KINDS.values()] + [
        REPEAT_EVENT,
        EventKind.REVIEW_REQUESTED,
        EventKind.REREVIEW_REQUESTED,
    ]
    return list(case.events.filter(kind__in=kinds).order_by("at", "id"))


def _latest(events: Iterable[CaseEvent], kind: str) -> CaseEvent | None:
    found = None
    for event in events:
        if event.kind == kind:
            found = event
    return found


def _is_refusal_repeat(event: CaseEvent) -> bool:
    return event.kind == REPEAT_EVENT and event.details.get("notice") == "not_accepted_again"


def _source_event(events: list[CaseEvent], slug: str) -> CaseEvent | None:
    """The event a notice is drawn from: the latest of its kind."""
    kind = NOTICE_KINDS[slug][1]
    matches = [e for e in events if e.kind == kind]
    if slug == REPEAT_NOTICE:
        matches += [e for e in events if _is_refusal_repeat(e)]
        matches.sort(key=lambda e: (e.at, e.pk))
    return matches[-1] if matches else None


def available_notices(case: Case, *, events: list[CaseEvent] | None = None) -> list[str]:
    """The notices this matter's timeline supports, in the order of `NOTICE_KINDS`.

    `events`: the whole timeline in order, when the caller has it already (the case page).
    """
    events = _events(case) if events is None else events
    return [slug for slug in NOTICE_KINDS if _source_event(events, slug) is not None]


def notice_filename(case: Case, slug: str) -> str:
    """E.g. "XF430102-2026-000001-受理告知书.docx"."""
    return f"{case.number}-{NOTICE_KINDS[slug][0]}.docx"


class _Petitioner:
    """The citizen who proved the matter's query code on the portal: the addressee themself."""

    def __repr__(self) -> str:
        return "PETITIONER"


PETITIONER = _Petitioner()


def render_notice(
    case: Case, slug: str, *, viewer: User | _Petitioner, issuer_name: str | None = None
) -> bytes:
    """The notice as a .docx file. ValueError (Chinese message) if the matter does not support it.

    `viewer` is who downloads it: a staff user, or `PETITIONER` on the portal. A viewer who may
    not see the petitioner (`access.can_see_petitioner`) gets it addressed to 信访人（保密）.
    `issuer_name` replaces the issuing organ printed at the end (落款), e.g. when a unit's
    full legal name differs from its short name in the system.
    """
    if slug not in NOTICE_KINDS:
        raise ValueError(f"未知的文书类型：{slug}")
    events = _events(case)
    event = _source_event(events, slug)
    title = NOTICE_KINDS[slug][0]
    if event is None:
        raise ValueError(f"事项 {case.number} {_MISSING[slug]}，不能出具{title}")
    text = _BUILDERS[slug](case, event, events)
    if viewer is not PETITIONER and not access.can_see_petitioner(viewer, case):
        text.addressee = CONFIDENTIAL_ADDRESSEE
    if issuer_name:
        text.issuer = issuer_name.strip()
    return _layout(text)


# ---------------------------------------------------------------- wording helpers


_day = clocks.local_date


_CHANNEL_PHRASE = {
    Channel.ONLINE: "通过网上信访",
    Channel.LETTER: "以来信形式",
    Channel.VISIT: "以走访形式",
    Channel.PHONE: "以来电形式",
    Channel.FAX: "以传真形式",
}
_END_PUNCT = "。！？；：…”’）)!?"
_ID_PATTERN = re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}\d{7}[\dXx](?![0-9])")
_PHONE_PATTERN = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")


def _you(case: Case) -> str:
    return "你们" if case.group_size > 1 else "你"


CONFIDENTIAL_ADDRESSEE = "信访人（保密）："


def _addressee(case: Case) -> str:
    if case.anonymous or not case.petitioner_name:
        return "信访人："
    if case.group_size > 1:
        return f"{case.petitioner_name}等{case.group_size}人："
    return f"{case.petitioner_name}："


def _scrub(case: Case, text: str) -> str:
    """Mask any resident ID number or phone in free text before it goes on paper."""
    secrets = [(case.petitioner_id_number, mask_id_number), (case.petitioner_phone, mask_phone)]
    for rep in case.representatives.all():
        secrets += [(rep.id_number, mask_id_number), (rep.phone, mask_phone)]
    for value, mask in secrets:
        if value and len(value) >= 6:
            text = text.replace(value, mask(value))
    text = _ID_PATTERN.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_PATTERN.sub(lambda m: mask_phone(m.group()), text)


def _clause(case: Case, text: str) -> str:
    """Free text to be embedded in a sentence: scrubbed, without its final punctuation."""
    return _scrub(case, " ".join(str(text or "").split())).rstrip("。；;，,.！!？? ")


def _sentences(case: Case, text: str) -> list[str]:
    """Free text as paragraphs, each ending with punctuation."""
    out = []
    for line in _scrub(case, str(text or "")).splitlines():
        line = line.strip()
        if line:
            out.append(line if line[-1] in _END_PUNCT else line + "。")
    return out


def _matter(case: Case) -> str:
    """你于2026年9月16日以走访形式提出的“……”信访事项（信访事项编号：……）"""
    channel = _CHANNEL_PHRASE.get(case.channel, "")
    return (
        f"{_you(case)}于{cn_date(_day(case.registered_at))}{channel}提出的“{_clause(case, case.title)}”"
        f"信访事项（信访事项编号：{case.number}）"
    )


def _abbrev(unit: Unit | None, case: Case) -> str:
    """The place part of a document number: "A1区" -> "A1", "西地省" -> "西地"."""
    place = (unit.place if unit is not None and unit.place_id else None) or case.place
    name = place.name if place is not None else ""
    for suffix in ("自治州", "自治县", "街道", "省", "市", "县", "区", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _doc_number(case: Case, slug: str, unit: Unit | None) -> str:
    """发文字号, e.g. "A1信受告〔2026〕12号": place, type code, year and the case's sequence."""
    return f"{_abbrev(unit, case)}{_NUMBER_CODES[slug]}〔{case.year}〕{case.seq}号"


def _issuing_unit(case: Case, event: CaseEvent, *units: Unit | None) -> Unit:
    """The organ that issues a notice: the first of `units` set, else the acting unit, else the office."""
    for unit in (*units, event.unit):
        if unit is not None:
            return unit
    return case.office


def _above(unit: Unit | None) -> str:
    """The organ a decision of `unit` is appealed to."""
    above = unit.parent if unit is not None else None
    return above.name if above is not None else "本机关的上一级机关"


def _accepted_on(case: Case, event: CaseEvent, events: list[CaseEvent]) -> str:
    accepted = _latest(events, EventKind.ACCEPTED)
    return cn_date(_day(accepted.at if accepted else case.accepted_at or event.at))


def _outcome_sentence(outcome: str, subject: str) -> str:
    return {
        Outcome.SUPPORTED: f"对{subject}予以支持。",
        Outcome.EXPLAINED: f"{subject}事由合理但缺乏法律、政策依据，特作上述解释说明，请予理解。",
        Outcome.NOT_SUPPORTED: f"对{subject}不予支持。",
    }.get(outcome, "")


def _notice(
    case: Case,
    event: CaseEvent,
    slug: str,
    unit: Unit,
    paragraphs: list[str],
    *,
    inform: bool = False,
) -> NoticeText:
    """Notice `slug` issued by `unit` on the day of `event`; `inform` closes it with 特此告知。"""
    return NoticeText(
        title="信访事项" + NOTICE_KINDS[slug][0],
        number=_doc_number(case, slug, unit),
        addressee=_addressee(case),
        paragraphs=paragraphs,
        issuer=unit.name,
        date=_day(event.at),
        closing=["特此告知。"] if inform else [],
    )


# ---------------------------------------------------------------- the seven notices

Builder = Callable[[Case, CaseEvent, list[CaseEvent]], NoticeText]


def _accept(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    # The clock the matter runs on once accepted (12345 requests: from dispatch, by urgency).
    clock, start = clock_plan(case, State.ACCEPTED, event.at)
    rule = clock_rules()[clock]
    due = clocks.rule_due_at(rule, start, work_calendar())
    you = _you(case)
    return _notice(
        case,
        event,
        "accept",
        _issuing_unit(case, event, case.lead_unit),
        [
            f"{_matter(case)}，经审查，属于本机关职权范围。根据《信访工作条例》第二十三条的规定，"
            f"本机关已于{cn_date(_day(event.at))}予以受理，现将有关事项告知如下：",
            f"一、本机关将依法调查核实，自受理之日起{clocks.period_text(rule)}内办结"
            f"（最迟不晚于{cn_date(last_day(due))}），并书面答复{you}。",
            "二、情况复杂的，经本机关负责人批准，可以适当延长办理期限，但延长期限不超过30日，"
            "届时将书面告知延期理由。",
            f"三、请{you}如实反映情况、配合调查；查询办理进度时，请提供上述信访事项编号。",
        ],
        inform=True,
    )


def _decline(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    reason = _clause(case, event.details.get("reason", ""))
    channel = _clause(case, event.details.get("proper_channel", ""))
    you = _you(case)
    return _notice(
        case,
        event,
        "decline",
        _issuing_unit(case, event, case.lead_unit),
        [
            f"{_matter(case)}，经审查，{reason}。",
            "根据《信访工作条例》第三十一条的规定，应当通过诉讼、仲裁、行政复议等法定途径解决的事项，"
            "应当导入相应程序处理。本机关决定对该信访事项不予受理。",
            f"{you}可以通过以下法定途径依法主张权利：{channel}。请注意相关法定期限，以免影响{you}的合法权益。",
        ],
        inform=True,
    )


_NOT_AGAIN_RULE = (
    "根据《信访工作条例》第三十六条的规定，信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，"
    "各级党委和政府信访部门和其他机关、单位不再受理。"
)


def _prior_outcome(prior: Case | None, you: str) -> tuple[str, str]:
    """How the earlier matter ended, and the rule that closes it, in words."""
    if prior is None or prior.state == State.NOT_ACCEPTED_AGAIN:
        return "已经作出不再受理决定", _NOT_AGAIN_RULE
    if prior.state == State.FINAL and prior.rereview_outcome:
        return "已经复核终结", _NOT_AGAIN_RULE
    if prior.state == State.FINAL:
        decision, step = ("复查意见", "复核") if prior.review_outcome else ("处理意见", "复查")
        return (
            f"的{decision}已经送达，{you}未在规定的30日内请求{step}，该{decision}已经生效",
            "根据《信访工作条例》第三十五条、第三十六条关于请求复查、复核期限的规定，原信访事项已经终结。",
        )
    if prior.state == State.DECLINED:
        return (
            "已经作出不予受理决定，并告知了依法解决的途径",
            "根据《信访工作条例》第三十一条的规定，应当通过诉讼、仲裁、行政复议等法定途径解决的事项，"
            "应当导入相应程序处理。",
        )
    return "已经依法处理", _NOT_AGAIN_RULE


def _not_again(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    you = _you(case)
    if event.kind == REPEAT_EVENT:
        # A new submission about this very matter, which is already closed.
        prior, prior_number = case, case.number
        channel = _CHANNEL_PHRASE.get(event.details.get("channel", ""), "")
        opening = (
            f"{you}于{cn_date(_day(event.at))}{channel}再次提出的信访事项，经审查，与本机关已登记的"
        )
    else:
        prior_number = event.details.get("prior", "")
        # case_not_accept_again links the matter to its prior, which the clerk could see.
        prior = case.linked_to
        opening = f"{_matter(case)}，经审查，与"
    prior_title = f"“{_clause(case, prior.title)}”" if prior is not None else ""
    ended, rule = _prior_outcome(prior, you)
    reason = _clause(case, event.details.get("reason", ""))
    return _notice(
        case,
        event,
        "not_accept_again",
        case.office,
        [
            f"{opening}{prior_title}信访事项（信访事项编号：{prior_number}）系同一事实和理由。"
            f"原信访事项{ended}。" + (f"{reason}。" if reason else ""),
            f"{rule}本机关决定对{you}此次以同一事实和理由提出的信访事项不再受理。",
            f"请{you}尊重依法作出的处理结论，依法理性表达诉求。如有新的事实和理由，可以依法另行提出。",
        ],
        inform=True,
    )


def _parse_due(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _extend(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    details = event.details
    old_due, new_due = _parse_due(details.get("old_due")), _parse_due(details.get("new_due"))
    days = int(details.get("days") or case.extension_days)
    reason = _clause(case, details.get("reason", ""))
    due_text = f"办理期限延长{days}日"
    if old_due and new_due:
        due_text += f"，办结期限由{cn_date(last_day(old_due))}延长至{cn_date(last_day(new_due))}"
    elif new_due:
        due_text += f"，办结期限延长至{cn_date(last_day(new_due))}"
    return _notice(
        case,
        event,
        "extend",
        _issuing_unit(case, event, case.lead_unit),
        [
            f"{_matter(case)}，本机关已于{_accepted_on(case, event, events)}受理。",
            f"因{reason}，该信访事项不能在规定期限内办结。根据《信访工作条例》关于办理期限的规定，"
            f"经本机关负责人批准，{due_text}。",
            f"本机关将在延长期限内办结，并书面答复{_you(case)}。",
        ],
        inform=True,
    )


def _decision_text(case: Case, event: CaseEvent) -> list[str]:
    return _sentences(case, event.details.get("text", ""))


def _reply(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    unit = _issuing_unit(case, event, case.lead_unit)
    you = _you(case)
    outcome = event.details.get("outcome", case.outcome)
    return _notice(
        case,
        event,
        "reply",
        unit,
        [
            f"{_matter(case)}，本机关已于{_accepted_on(case, event, events)}受理。经调查核实，现提出处理意见如下：",
            *_decision_text(case, event),
            f"综上，根据《信访工作条例》第三十一条等有关规定，{_outcome_sentence(outcome, you + '的信访请求')}",
            f"根据《信访工作条例》第三十五条的规定，如对本处理意见不服，{you}可以自收到本意见书之日起30日内"
            f"向{_above(case.lead_unit or unit)}请求复查。",
        ],
    )


# 复查 and 复核: slug -> (the step, its article, the notice appealed against, the request event)
_APPEALS = {
    "review": ("复查", "第三十五条", "reply", EventKind.REVIEW_REQUESTED),
    "rereview": ("复核", "第三十六条", "review", EventKind.REREVIEW_REQUESTED),
}


def _appeal_decision(
    case: Case,
    event: CaseEvent,
    events: list[CaseEvent],
    slug: str,
    appealed_unit: Unit | None,
    appealed_organ: str,
) -> list[str]:
    """复查/复核意见: what was appealed and why, the decision, and its outcome."""
    step, article, appealed_slug, request_kind = _APPEALS[slug]
    appealed = _latest(events, NOTICE_KINDS[appealed_slug][1])
    request = _latest(events, request_kind)
    appealed_title = NOTICE_KINDS[appealed_slug][0]
    you = _you(case)
    ref = (
        f"{appealed_unit.name if appealed_unit else appealed_organ}于{cn_date(_day(appealed.at))}"
        f"作出的信访事项{appealed_title}（{_doc_number(case, appealed_slug, appealed_unit)}）"
        if appealed
        else f"{appealed_organ}作出的{appealed_title.removesuffix('书')}"
    )
    asked = f"于{cn_date(_day(request.at))}" if request else ""
    reason = _clause(case, request.details.get("reason", "")) if request else ""
    outcome = event.details.get("outcome", getattr(case, f"{slug}_outcome"))
    return [
        f"{you}不服{ref}，{asked}向本机关请求{step}"
        + (f"，理由是：{reason}。" if reason else "。")
        + f"本机关根据《信访工作条例》{article}的规定进行了{step}（原信访事项编号：{case.number}），"
        f"现提出{step}意见如下：",
        *_decision_text(case, event),
        f"综上，{_outcome_sentence(outcome, f'{you}的{step}请求')}",
    ]


def _review(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    you = _you(case)
    return _notice(
        case,
        event,
        "review",
        _issuing_unit(case, event, case.review_unit),
        [
            *_appeal_decision(case, event, events, "review", case.lead_unit, "原办理机关"),
            f"根据《信访工作条例》第三十六条的规定，如对本复查意见不服，{you}可以自收到本意见书之日起30日内"
            f"向{_above(case.review_unit)}请求复核。",
        ],
    )


def _rereview(case: Case, event: CaseEvent, events: list[CaseEvent]) -> NoticeText:
    return _notice(
        case,
        event,
        "rereview",
        _issuing_unit(case, event, case.rereview_unit),
        [
            *_appeal_decision(case, event, events, "rereview", case.review_unit, "复查机关"),
            "本复核意见为该信访事项的终结意见。根据《信访工作条例》第三十六条的规定，"
            f"{_you(case)}对本复核意见不服，仍然以同一事实和理由提出投诉请求的，"
            "各级党委和政府信访部门和其他机关、单位不再受理。",
        ],
    )


_BUILDERS: dict[str, Builder] = {
    "accept": _accept,
    "decline": _decline,
    "not_accept_again": _not_again,
    "extend": _extend,
    "reply": _reply,
    "review": _review,
    "rereview": _rereview,
}


# ---------------------------------------------------------------- layout


def _layout(text: NoticeText) -> bytes:
    doc = gbt9704.new_document(body_font=BODY_FONT)
    gbt9704.title(doc, text.title, font=TITLE_FONT)
    _add(doc, text.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _add(doc, "")
    _add(doc, text.addressee)
    for paragraph in [*text.paragraphs, *text.closing]:
        _add(doc, paragraph, first_line=2)
    _add(doc, "")
    _add(doc, "")
    gbt9704.signature(doc, text.issuer, cn_date(text.date), font=BODY_FONT)
    return gbt9704.to_bytes(
        doc, title=text.title, subject=text.number, author=text.issuer, date=text.date
    )


def _add(doc, text: str, **kwargs):
    return gbt9704.add(doc, text, font=BODY_FONT, **kwargs)
