"""Every write of 督查督办: urge messages, supervision orders, co-handlers' opinions.

Each step records a non-public event on the matter's timeline (`cases.services.record_event`, the one
writer of CaseEvent rows) in the same transaction as the change, and queues its staff messages to
the outbox there too. Staff messages name the matter by number and type only, never the petitioner.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from xinfang.cases import access, deadlines
from xinfang.cases import services as case_services
from xinfang.cases.events import EventKind
from xinfang.cases.models import CLOSED_STATES, Case, CoHandler, State
from xinfang.cases.selectors import work_calendar
from xinfang.notify import messages as notify_messages
from xinfang.notify.models import Outbox
from xinfang.notify.services import HOLDER_FIELD, outbox_queue
from xinfang.orgs.models import Role, Unit, User
from xinfang.supervision.models import CoHandlerOpinion, SupervisionOrder

UNIT_ROLES = frozenset({Role.OFFICER, Role.HEAD})
MESSAGE_ROLES = (Role.CLERK, Role.OFFICER, Role.HEAD)
TAIL = "请登录信访事项办理系统查看。"
MAX_DEADLINE_DAYS = 5 * 366  # a sanity bound only (a far date overflowed into a 500), not a policy


def _deadline_error(day: dt.date | None, at: dt.datetime, missing: str) -> str | None:
    """What is wrong with an entered feedback deadline, or None."""
    today = timezone.localtime(at).date()
    if day is None:
        return missing
    if day < today:
        return "反馈期限不能早于今天"
    if day > today + dt.timedelta(days=MAX_DEADLINE_DAYS):
        return "反馈期限不能晚于五年后"
    return None


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _event(case: Case, kind: EventKind, at: dt.datetime, by: User | None, **details) -> None:
    # cases.services.record_event is the one writer of timeline rows (it runs the declared reactions);
    # supervision events are internal in `events.EVENTS`: the petitioner is never told of them.
    case_services.record_event(case, kind, at, by, **details)


def _emails(unit_id: int | None, roles=MESSAGE_ROLES) -> list[str]:
    if unit_id is None:
        return []
    return list(
        User.objects.filter(unit_id=unit_id, is_active=True, role__in=roles)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )


def _tell_unit(
    *,
    unit_id: int | None,
    case: Case,
    subject: str,
    body: str,
    kind: str,
    at: dt.datetime,
    roles=MESSAGE_ROLES,
) -> int:
    emails = _emails(unit_id, roles)
    for email in emails:
        outbox_queue(
            channel=Outbox.Channel.EMAIL,
            recipient=email,
            subject=subject,
            body=body + TAIL,
            kind=kind,
            case=case,
            at=at,
            unit_id=unit_id,
        )
    return len(emails)


def _tell_user(
    *, user: User, case: Case, subject: str, body: str, kind: str, at: dt.datetime
) -> int:
    if not (user.is_active and user.email):
        return 0
    outbox_queue(
        channel=Outbox.Channel.EMAIL,
        recipient=user.email,
        subject=subject,
        body=body + TAIL,
        kind=kind,
        case=case,
        at=at,
        unit_id=user.unit_id,
    )
    return 1


def _what(case: Case) -> str:
    return f"信访事项{case.number}（{notify_messages.kind_label(case)}）"


# ---------------------------------------------------------------- 催办


def urged_unit_id(case: Case) -> int | None:
    """The unit an urge goes to: the one holding the running clock."""
    field = HOLDER_FIELD.get(case.state)
    return getattr(case, f"{field}_id") if field else None


def urge_notify(*, case: Case, note: str, at: dt.datetime) -> int:
    """Tell the urged unit's staff (called by `cases.services.case_urge` in its transaction)."""
    return _tell_unit(
        unit_id=urged_unit_id(case),
        case=case,
        kind=EventKind.SUPERVISION_URGED,
        at=at,
        subject=f"【催办】信访事项{case.number}",
        body=f"督查督办部门对{_what(case)}进行了催办，催办意见：{note.strip()}。请抓紧办理。",
    )


# ---------------------------------------------------------------- 督办单


def may_issue(user: User, case: Case) -> bool:
    """Supervisors whose scope holds the matter, while it is open."""
    return (
        user.is_authenticated
        and user.role == Role.SUPERVISOR
        and case.state not in CLOSED_STATES
        and access.can_view(user, case)
    )


def supervisable_units(case: Case) -> list[Unit]:
    """The units an order may go to: those handling the matter (lead, co-handlers, review organs),
    never the registering office's own clerks' side and never a unit a report accuses (回避)."""
    ids = access.case_units(case) - {case.office_id}
    units = Unit.objects.filter(pk__in=ids).order_by("path")
    return [u for u in units if not access.unit_is_accused(u, case)]


def default_unit(case: Case, units: list[Unit] | None = None) -> Unit | None:
    """The lead unit if it may be supervised, else the first that may (`units`: the matter's
    `supervisable_units`, when the caller has them)."""
    units = supervisable_units(case) if units is None else units
    return next((u for u in units if u.pk == case.lead_unit_id), units[0] if units else None)


def order_issue(
    *,
    case: Case,
    by: User,
    requirements: str,
    deadline_date: dt.date,
    unit: Unit | None = None,
    at: dt.datetime | None = None,
) -> SupervisionOrder:
    """督办: a supervisor orders the unit to report back by a working day."""
    at = _now(at)
    if not may_issue(by, case):
        raise PermissionDenied("只有督查督办人员可以对本辖区的在办事项下达督办单")
    errors: dict[str, str] = {}
    units = supervisable_units(case)
    unit = unit or default_unit(case, units)
    if unit is None or unit.pk not in {u.pk for u in units}:
        errors["unit"] = "被督办单位须是办理该事项的单位"
    if not requirements.strip():
        errors["requirements"] = "请填写督办要求"
    if problem := _deadline_error(deadline_date, at, "请填写反馈期限"):
        errors["deadline"] = problem
    if errors:
        raise ValidationError(errors)
    explicit = deadlines.explicit_last_day(deadline_date, work_calendar())
    with transaction.atomic():
        order = SupervisionOrder.objects.create(
            case=case,
            unit=unit,
            issued_by=by,
            issued_at=at,
            requirements=requirements.strip(),
            deadline=explicit.due_at,
            deadline_note=explicit.note,
        )
        due = deadlines.cn_date(explicit.day)
        note = f"反馈期限{due}" + (f"（{explicit.note}）" if explicit.note else "")
        _event(
            case,
            EventKind.SUPERVISION_ISSUED,
            at,
            by,
            unit=unit.name,
            text=order.requirements,
            note=note,
            order=order.pk,
        )
        _tell_unit(
            unit_id=unit.pk,
            case=case,
            kind=EventKind.SUPERVISION_ISSUED,
            at=at,
            subject=f"【督办】信访事项{case.number}",
            body=f"督查督办部门对{_what(case)}下达督办单，督办要求：{order.requirements}。"
            f"请于{due}前书面反馈。",
        )
    return order


def _locked(order: SupervisionOrder) -> SupervisionOrder:
    return (
        SupervisionOrder.objects.select_for_update()
        .select_related("case", "unit", "issued_by")
        .get(pk=order.pk)
    )


def may_answer(user: User, order: SupervisionOrder) -> bool:
    """Only the supervised unit's officers and head answer, and only while it waits for them."""
    return (
        user.is_authenticated
        and user.unit_id == order.unit_id
        and user.role in UNIT_ROLES
        and order.status == SupervisionOrder.Status.OPEN
    )


def order_feedback(
    *, order: SupervisionOrder, by: User, text: str, at: dt.datetime | None = None
) -> SupervisionOrder:
    """反馈: the supervised unit reports in writing what it has done."""
    at = _now(at)
    if not text.strip():
        raise ValidationError({"feedback": "请填写反馈情况"})
    with transaction.atomic():
        order = _locked(order)
        if not may_answer(by, order):
            if by.unit_id == order.unit_id and by.role in UNIT_ROLES:
                raise ValidationError(
                    {"feedback": f"该督办单{order.get_status_display()}，不能反馈"}
                )
            raise PermissionDenied("只有被督办单位的经办人或负责人可以反馈")
        on_time = at <= order.deadline
        order.status, order.feedback, order.feedback_by, order.feedback_at = (
            SupervisionOrder.Status.ANSWERED,
            text.strip(),
            by,
            at,
        )
        order.save(update_fields=["status", "feedback", "feedback_by", "feedback_at"])
        _event(
            order.case,
            EventKind.SUPERVISION_FEEDBACK,
            at,
            by,
            unit=order.unit.name,
            text=order.feedback,
            on_time=on_time,
            order=order.pk,
        )
        _tell_user(
            user=order.issued_by,
            case=order.case,
            kind=EventKind.SUPERVISION_FEEDBACK,
            at=at,
            subject=f"【督办反馈】信访事项{order.case.number}",
            body=f"{order.unit.name}已就{_what(order.case)}的督办单反馈办理情况"
            f"{'' if on_time else '（逾期反馈）'}，请审核。",
        )
    return order


def may_close(user: User, order: SupervisionOrder) -> bool:
    return (
        user.is_authenticated
        and user.role == Role.SUPERVISOR
        and access.can_view(user, order.case)
        and order.status == SupervisionOrder.Status.ANSWERED
    )


def order_close(
    *,
    order: SupervisionOrder,
    by: User,
    accept: bool,
    note: str,
    deadline_date: dt.date | None = None,
    at: dt.datetime | None = None,
) -> SupervisionOrder:
    """办结 (`accept`), or 退回重办 with a new feedback deadline; either with a note."""
    at = _now(at)
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = "请填写办结或退回意见"
    if not accept and (problem := _deadline_error(deadline_date, at, "退回重办须重新确定反馈期限")):
        errors["deadline"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = _locked(order)
        if not may_close(by, order):
            if order.status != SupervisionOrder.Status.ANSWERED and by.role == Role.SUPERVISOR:
                raise ValidationError(
                    {"note": f"该督办单{order.get_status_display()}，不能办结或退回"}
                )
            raise PermissionDenied("只有本辖区的督查督办人员可以办结或退回督办单")
        if accept:
            order.status, order.closed_by, order.closed_at, order.close_note = (
                SupervisionOrder.Status.CLOSED,
                by,
                at,
                note.strip(),
            )
            order.save(update_fields=["status", "closed_by", "closed_at", "close_note"])
            _event(
                order.case,
                EventKind.SUPERVISION_CLOSED,
                at,
                by,
                unit=order.unit.name,
                note=note.strip(),
                order=order.pk,
            )
            return order
        explicit = deadlines.explicit_last_day(deadline_date, work_calendar())
        order.status, order.deadline, order.deadline_note = (
            SupervisionOrder.Status.OPEN,
            explicit.due_at,
            explicit.note,
        )
        order.escalated_at, order.redo_count = None, order.redo_count + 1
        order.close_note = note.strip()
        order.save(
            update_fields=[
                "status",
                "deadline",
                "deadline_note",
                "escalated_at",
                "redo_count",
                "close_note",
            ]
        )
        due = deadlines.cn_date(explicit.day)
        _event(
            order.case,
            EventKind.SUPERVISION_REDO,
            at,
            by,
            unit=order.unit.name,
            reason=note.strip(),
            note=f"重新反馈期限{due}" + (f"（{explicit.note}）" if explicit.note else ""),
            order=order.pk,
        )
        _tell_unit(
            unit_id=order.unit_id,
            case=order.case,
            kind=EventKind.SUPERVISION_REDO,
            at=at,
            subject=f"【督办退回重办】信访事项{order.case.number}",
            body=f"{_what(order.case)}的督办反馈被退回重办，意见：{note.strip()}。请于{due}前重新反馈。",
        )
    return order


def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """The worker's sweep: each open order past its deadline is marked overdue once (a
    conditional update claims it, so two workers never escalate one twice), recorded on the
    timeline, and the supervisor and the unit's head are told. Returns how many."""
    now = _now(now)
    due = SupervisionOrder.objects.filter(
        status=SupervisionOrder.Status.OPEN, escalated_at__isnull=True, deadline__lte=now
    )
    count = 0
    for pk in list(due.order_by("deadline", "id").values_list("id", flat=True)[:500]):
        with transaction.atomic():
            if not due.filter(pk=pk).update(escalated_at=now):
                continue  # another worker took it
            order = SupervisionOrder.objects.select_related("case", "unit", "issued_by").get(pk=pk)
            case, last = order.case, deadlines.cn_last_day(order.deadline)
            _event(
                case,
                EventKind.SUPERVISION_ESCALATED,
                now,
                None,
                unit=order.unit.name,
                note=f"反馈期限{last}已过，未反馈，已逾期升级",
                order=order.pk,
            )
            subject = f"【督办逾期】信访事项{case.number}"
            body = f"{order.unit.name}未在{last}前就{_what(case)}的督办单反馈，已逾期。"
            _tell_user(
                user=order.issued_by,
                case=case,
                subject=subject,
                body=body + "请跟踪督促。",
                kind=EventKind.SUPERVISION_ESCALATED,
                at=now,
            )
            _tell_unit(
                unit_id=order.unit_id,
                case=case,
                subject=subject,
                body=body + "请单位负责人督促落实并立即反馈。",
                kind=EventKind.SUPERVISION_ESCALATED,
                at=now,
                roles=(Role.HEAD,),
            )
            count += 1
    return count


# ---------------------------------------------------------------- 协办意见


def cohandler_unit(user: User, case: Case) -> Unit | None:
    """The co-handling unit `user` answers for on `case` (officer or head of it), or None."""
    if not user.is_authenticated or user.role not in UNIT_ROLES or not user.unit_id:
        return None
    if user.unit_id == case.lead_unit_id:
        return None
    if not CoHandler.objects.filter(case=case, unit_id=user.unit_id).exists():
        return None
    return user.unit


def may_give_opinion(user: User, case: Case) -> bool:
    return case.state == State.ACCEPTED and cohandler_unit(user, case) is not None


def opinion_add(
    *, case: Case, by: User, text: str, at: dt.datetime | None = None
) -> CoHandlerOpinion:
    """协办意见: a co-handler records its opinion or result for the lead unit."""
    at = _now(at)
    unit = cohandler_unit(by, case)
    if unit is None:
        raise PermissionDenied("只有协办单位的经办人或负责人可以填报协办意见")
    if case.state != State.ACCEPTED:
        raise ValidationError({"text": "事项受理后、答复前才能填报协办意见"})
    if not text.strip():
        raise ValidationError({"text": "请填写协办意见"})
    with transaction.atomic():
        opinion = CoHandlerOpinion.objects.create(
            case=case, unit=unit, by=by, at=at, text=text.strip()
        )
        _event(case, EventKind.COHANDLING_OPINION, at, by, unit=unit.name, text=opinion.text)
        if case.lead_unit_id:
            _tell_unit(
                unit_id=case.lead_unit_id,
                case=case,
                kind=EventKind.COHANDLING_OPINION,
                at=at,
                roles=(Role.OFFICER, Role.HEAD),
                subject=f"【协办意见】信访事项{case.number}",
                body=f"协办单位{unit.name}已就{_what(case)}填报协办意见。",
            )
    return opinion
