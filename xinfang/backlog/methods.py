"""The methods of resolution: 协调会/推进会 with follow-ups, 帮扶救助, 律师调解, 听证, 约谈."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from xinfang.backlog import permissions
from xinfang.backlog.models import (
    BacklogCase,
    CoordinationMeeting,
    FollowUpAction,
    HardshipAid,
    Hearing,
    HearingParticipant,
    LawyerMediation,
    MediationSession,
    UnitHeadSummons,
)
from xinfang.backlog.writing import (
    _event,
    _money,
    _not_future,
    _now,
    _require_work,
    _start_of,
)
from xinfang.cases import clocks, deadlines
from xinfang.cases.deadlines import last_day
from xinfang.cases.events import EventKind
from xinfang.cases.selectors import work_calendar
from xinfang.orgs.models import Unit, User

# ---------------------------------------------------------------- the methods


@dataclass
class FollowUp:
    description: str
    owner: User
    unit: Unit
    due_days: int | None = None  # working days from the meeting
    due_on: dt.date | None = None


def _follow_up_due(held_on: dt.date, item: FollowUp) -> tuple[dt.date, dt.datetime, str]:
    """(last day, due instant, note): an explicit date on a rest day moves to the next working day."""
    if item.due_on is not None:
        if item.due_on < held_on:
            raise ValidationError(f"落实事项“{item.description}”的期限不能早于会议日期")
        explicit = deadlines.explicit_last_day(item.due_on, work_calendar())
        return explicit.day, explicit.due_at, explicit.note
    if not item.due_days or item.due_days < 1:
        raise ValidationError(f"落实事项“{item.description}”须填写期限（工作日天数或日期）")
    due = clocks.due_at(_start_of(held_on), item.due_days, clocks.DayKind.WORKING, work_calendar())
    return last_day(due), due, ""


def meeting_record(
    *,
    backlog: BacklogCase,
    by: User,
    kind: str,
    held_on: dt.date,
    attendee_units: Iterable[Unit],
    decisions: str,
    actions: Sequence[FollowUp] = (),
    at: dt.datetime | None = None,
) -> CoordinationMeeting:
    """协调会、推进会 with the units that attended, the decisions and follow-up actions."""
    at = _now(at)
    _require_work(by, backlog)
    if kind not in CoordinationMeeting.Kind.values:
        raise ValidationError("请选择会议类型（协调会或推进会）")
    _not_future(held_on, "会议日期", at)
    units = list(attendee_units)
    if not units:
        raise ValidationError("请选择参会单位")
    if not decisions.strip():
        raise ValidationError("请填写议定事项")
    dues = []
    for item in actions:
        if not item.description.strip():
            raise ValidationError("落实事项须填写内容")
        dues.append(_follow_up_due(held_on, item))
    with transaction.atomic():
        meeting = CoordinationMeeting.objects.create(
            backlog=backlog, kind=kind, held_on=held_on, decisions=decisions.strip(), recorded_by=by
        )
        meeting.attendee_units.set(units)
        FollowUpAction.objects.bulk_create(
            FollowUpAction(
                meeting=meeting,
                description=item.description.strip(),
                owner=item.owner,
                unit=item.unit,
                due_days=item.due_days if item.due_on is None else None,
                due_on=due_on,
                due_at=due_at,
                due_note=note,
            )
            for item, (due_on, due_at, note) in zip(actions, dues, strict=True)
        )
        _event(
            backlog,
            EventKind.BACKLOG_MEETING_RECORDED,
            by,
            at,
            kind=kind,
            held_on=held_on.isoformat(),
            actions=len(actions),
        )
    return meeting


def follow_up_done(
    *, action: FollowUpAction, by: User, at: dt.datetime | None = None
) -> FollowUpAction:
    at = _now(at)
    backlog = action.meeting.backlog
    if not (permissions.can_work(by, backlog) or action.owner_id == by.pk):
        raise PermissionDenied("您无权办结该落实事项")
    if action.done_at:
        raise ValidationError("该落实事项已办结")
    with transaction.atomic():
        action.done_at = at
        action.save(update_fields=["done_at"])
        _event(backlog, EventKind.BACKLOG_ACTION_DONE, by, at, action=action.description)
    return action


def aid_record(
    *,
    backlog: BacklogCase,
    by: User,
    kind: str,
    amount,
    source: str,
    approved_by: str,
    approved_on: dt.date,
    paid_on: dt.date | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> HardshipAid:
    """帮扶救助: social relief, judicial aid or other, with amount, source and approval."""
    at = _now(at)
    _require_work(by, backlog)
    if kind not in HardshipAid.Kind.values:
        raise ValidationError("请选择救助类型")
    value = _money(amount, "救助金额")
    if value <= 0:
        raise ValidationError("救助金额应大于零")
    if not source.strip():
        raise ValidationError("请填写资金来源")
    if not approved_by.strip():
        raise ValidationError("请填写审批人")
    _not_future(approved_on, "审批日期", at)
    if paid_on is not None:
        _not_future(paid_on, "发放日期", at)
        if paid_on < approved_on:
            raise ValidationError("发放日期不能早于审批日期")
    with transaction.atomic():
        aid = HardshipAid.objects.create(
            backlog=backlog,
            kind=kind,
            amount=value,
            source=source.strip(),
            approved_by=approved_by.strip(),
            approved_on=approved_on,
            paid_on=paid_on,
            note=note.strip(),
            recorded_by=by,
        )
        _event(backlog, EventKind.BACKLOG_AID_RECORDED, by, at, kind=kind, amount=str(value))
    return aid


def mediation_record(
    *,
    backlog: BacklogCase,
    by: User,
    lawyer_name: str,
    law_firm: str,
    sessions: Sequence[tuple[dt.date, str]] = (),
    outcome: str = LawyerMediation.Outcome.ONGOING,
    outcome_note: str = "",
    at: dt.datetime | None = None,
) -> LawyerMediation:
    """律师引导调解: the lawyer, the sessions held, the outcome."""
    at = _now(at)
    _require_work(by, backlog)
    if not lawyer_name.strip() or not law_firm.strip():
        raise ValidationError("请填写律师姓名和律师事务所")
    if outcome not in LawyerMediation.Outcome.values:
        raise ValidationError("请选择调解结果")
    for day, _notes in sessions:
        _not_future(day, "调解日期", at)
    with transaction.atomic():
        mediation = LawyerMediation.objects.create(
            backlog=backlog,
            lawyer_name=lawyer_name.strip(),
            law_firm=law_firm.strip(),
            outcome=outcome,
            outcome_note=outcome_note.strip(),
            recorded_by=by,
        )
        MediationSession.objects.bulk_create(
            MediationSession(mediation=mediation, held_on=day, notes=notes.strip())
            for day, notes in sessions
        )
        _event(
            backlog,
            EventKind.BACKLOG_MEDIATION_RECORDED,
            by,
            at,
            lawyer=lawyer_name,
            outcome=outcome,
        )
    return mediation


def mediation_add_session(
    *,
    mediation: LawyerMediation,
    by: User,
    held_on: dt.date,
    notes: str,
    outcome: str = "",
    outcome_note: str = "",
    at: dt.datetime | None = None,
) -> MediationSession:
    at = _now(at)
    backlog = mediation.backlog
    _require_work(by, backlog)
    _not_future(held_on, "调解日期", at)
    if not notes.strip():
        raise ValidationError("请填写调解情况")
    with transaction.atomic():
        session = MediationSession.objects.create(
            mediation=mediation, held_on=held_on, notes=notes.strip()
        )
        if outcome:
            if outcome not in LawyerMediation.Outcome.values:
                raise ValidationError("请选择调解结果")
            mediation.outcome = outcome
            mediation.outcome_note = outcome_note.strip() or mediation.outcome_note
            mediation.save(update_fields=["outcome", "outcome_note"])
        _event(backlog, EventKind.BACKLOG_MEDIATION_SESSION, by, at, held_on=held_on.isoformat())
    return session


def hearing_record(
    *,
    backlog: BacklogCase,
    by: User,
    held_on: dt.date,
    place: str,
    participants: Sequence[tuple[str, str]],
    minutes: str,
    findings: str,
    decision: str,
    at: dt.datetime | None = None,
) -> Hearing:
    """听证评议 with invited participants by kind (人大代表、政协委员、律师、公证员、单位、信访人)."""
    at = _now(at)
    _require_work(by, backlog)
    _not_future(held_on, "听证日期", at)
    for what, value in (
        ("听证地点", place),
        ("听证记录", minutes),
        ("评议意见", findings),
        ("听证结论", decision),
    ):
        if not (value or "").strip():
            raise ValidationError(f"请填写{what}")
    people = [(k, n.strip()) for k, n in participants if n.strip()]
    if not people:
        raise ValidationError("请填写参加听证的人员")
    for kind, _name in people:
        if kind not in HearingParticipant.Kind.values:
            raise ValidationError("参加人员身份不正确")
    with transaction.atomic():
        hearing = Hearing.objects.create(
            backlog=backlog,
            held_on=held_on,
            place=place.strip(),
            minutes=minutes.strip(),
            findings=findings.strip(),
            decision=decision.strip(),
            recorded_by=by,
        )
        HearingParticipant.objects.bulk_create(
            HearingParticipant(hearing=hearing, kind=k, name=n[:80]) for k, n in people
        )
        _event(backlog, EventKind.BACKLOG_HEARING_RECORDED, by, at, held_on=held_on.isoformat())
    return hearing


def summons_record(
    *,
    backlog: BacklogCase,
    by: User,
    unit: Unit,
    head_name: str,
    held_on: dt.date,
    reason: str,
    commitments: str = "",
    at: dt.datetime | None = None,
) -> UnitHeadSummons:
    """约谈: summon the head of a unit whose part of the case is stuck."""
    at = _now(at)
    _require_work(by, backlog)
    if not head_name.strip() or not reason.strip():
        raise ValidationError("请填写被约谈负责人和约谈事由")
    _not_future(held_on, "约谈日期", at)
    with transaction.atomic():
        summons = UnitHeadSummons.objects.create(
            backlog=backlog,
            unit=unit,
            head_name=head_name.strip(),
            held_on=held_on,
            reason=reason.strip(),
            commitments=commitments.strip(),
            recorded_by=by,
        )
        _event(backlog, EventKind.BACKLOG_SUMMONS_RECORDED, by, at, unit=unit.name)
    return summons
