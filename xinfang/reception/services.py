"""Every write of leader reception (领导接访). Views, commands and tests all come through here.

Matters raised at a reception enter the same register as every other channel
(`xinfang.cases.services.case_register`, channel 来访); nothing here writes a Case row.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import access, clocks, deadlines
from xinfang.cases import services as case_services
from xinfang.cases.models import Case, Channel
from xinfang.cases.selectors import work_calendar
from xinfang.cases.validators import clean_phone
from xinfang.lib import bounds
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.reception import conf, selectors
from xinfang.reception.models import (
    AppointmentSlot,
    Booking,
    BookingPhoneView,
    CalendarFeedToken,
    GroupVisitReception,
    Instruction,
    ReceptionKind,
    ReceptionMatter,
    ReceptionRecord,
    ReceptionRota,
    RotaDay,
)


def _require_rota_manager(by: User, office: Unit) -> None:
    if not selectors.can_manage_rota(by, office):
        raise PermissionDenied("只有本机构的登记员和负责人可以安排接访")


def _require_recorder(by: User, office: Unit) -> None:
    if not selectors.can_record(by, office):
        raise PermissionDenied("只有本机构的登记员和负责人可以登记接访情况")


def _check_leader(leader: User | None, office: Unit, field: str) -> None:
    if leader is not None and not selectors.leader_choices(office).filter(pk=leader.pk).exists():
        raise ValidationError(
            {field: f"“{leader}”不是可安排接访的领导（须为单位负责人或督查督办）"}
        )


# ---------------------------------------------------------------- the rota (排班)


@dataclass(frozen=True)
class Leader:
    """A leader for the rota: a user, or a named leader who has no account."""

    user: User | None = None
    name: str = ""

    def __str__(self) -> str:
        return str(self.user) if self.user is not None else self.name


def rota_get_or_create(*, office: Unit) -> ReceptionRota:
    rota, _ = ReceptionRota.objects.get_or_create(office=office)
    return rota


def rota_day_set(
    *,
    office: Unit,
    by: User,
    date: dt.date,
    leader: User | None = None,
    leader_name: str = "",
    leader_absent: bool = False,
    substitute: User | None = None,
    substitute_name: str = "",
    note: str = "",
) -> RotaDay:
    """Set one working day: its leader, whether absent, the substitute(s), a note.

    An absent leader without a substitute is saved, and shows as a warning until one is named.
    """
    _require_rota_manager(by, office)
    leader_name, substitute_name = leader_name.strip(), substitute_name.strip()
    errors: dict[str, str] = {}
    if not work_calendar().is_workday(date):
        errors["date"] = f"{date:%Y年%m月%d日}不是工作日，不安排接访"
    if leader is not None and leader_name:
        errors["leader_name"] = "请在系统用户和填写姓名中二选一"
    if not (leader or leader_name) and not (substitute or substitute_name):
        errors["leader"] = "请选择接访领导"
    if errors:
        raise ValidationError(errors)
    _check_leader(leader, office, "leader")
    _check_leader(substitute, office, "substitute")
    if substitute is not None and substitute == leader:
        raise ValidationError({"substitute": "替班领导不能是本人"})
    rota = rota_get_or_create(office=office)
    day, _ = RotaDay.objects.update_or_create(
        rota=rota,
        date=date,
        defaults={
            "leader": leader,
            "leader_name": "" if leader else leader_name,
            "leader_absent": leader_absent,
            "substitute": substitute,
            "substitute_name": substitute_name,
            "note": note.strip(),
        },
    )
    return day


def rota_day_clear(*, office: Unit, by: User, date: dt.date) -> None:
    _require_rota_manager(by, office)
    RotaDay.objects.filter(rota__office=office, date=date).delete()


def rota_fill(
    *,
    office: Unit,
    by: User,
    start: dt.date,
    end: dt.date,
    leaders: list[Leader],
) -> list[RotaDay]:
    """Assign leaders round-robin (轮流) to the working days from `start` to `end`.

    Rest days (weekends, holidays) are skipped and swapped working days (调休) are filled.
    A day already on the rota gets the next leader; its note is kept.
    """
    _require_rota_manager(by, office)
    if not leaders:
        raise ValidationError({"leaders": "请至少选择一位接访领导"})
    if end < start:
        raise ValidationError({"end": "结束日期不能早于开始日期"})
    if (end - start).days > 366:
        raise ValidationError({"end": "一次最多排一年"})
    for person in leaders:
        _check_leader(person.user, office, "leaders")
    rota = rota_get_or_create(office=office)
    days = []
    with transaction.atomic():
        for i, date in enumerate(selectors.working_days(start, end)):
            person = leaders[i % len(leaders)]
            day, _ = RotaDay.objects.update_or_create(
                rota=rota,
                date=date,
                defaults={
                    "leader": person.user,
                    "leader_name": person.name if person.user is None else "",
                    "leader_absent": False,
                    "substitute": None,
                    "substitute_name": "",
                },
            )
            days.append(day)
    return days


# ---------------------------------------------------------------- reception records (接访记录)


def record_create(
    *,
    office: Unit,
    by: User,
    held_at: dt.datetime,
    kind: str = ReceptionKind.ROTA,
    leader: User | None = None,
    leader_name: str = "",
    place: str = "",
    visitors: int = 1,
    summary: str = "",
    slot: AppointmentSlot | None = None,
    case_numbers: list[str] | None = None,
) -> ReceptionRecord:
    """Record one reception; `case_numbers` are existing matters raised there."""
    _require_recorder(by, office)
    errors: dict[str, str] = {}
    if kind not in ReceptionKind.values:
        errors["kind"] = "请选择接访形式"
    if not (leader or leader_name.strip()):
        errors["leader"] = "请选择或填写接访领导"
    if not bounds.GROUP_SIZE.holds(visitors):
        errors["visitors"] = bounds.GROUP_SIZE.message
    if timezone.is_naive(held_at):
        raise ValueError("时间必须带时区")
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        errors["held_at"] = "接访时间不能晚于当前时间"
    if errors:
        raise ValidationError(errors)
    _check_leader(leader, office, "leader")
    with transaction.atomic():
        record = ReceptionRecord.objects.create(
            office=office,
            held_at=held_at,
            kind=kind,
            leader=leader,
            leader_name="" if leader else leader_name.strip(),
            place=place.strip(),
            visitors=visitors,
            summary=summary.strip(),
            slot=slot,
            created_by=by,
        )
        for number in case_numbers or []:
            record_link_case(record=record, by=by, number=number)
    return record


def record_link_case(*, record: ReceptionRecord, by: User, number: str) -> ReceptionMatter:
    """Link an existing matter, by its number, that the user entering it may see."""
    _require_recorder(by, record.office)
    number = number.strip()
    case = access.case_by_number_for_user(by, number, "reception")
    if case is None:
        raise ValidationError({"case_number": f"没有找到事项“{number}”，或您无权查看"})
    return _link(record, case, registered=False)


def _link(record: ReceptionRecord, case: Case, *, registered: bool) -> ReceptionMatter:
    with transaction.atomic():
        matter, _ = ReceptionMatter.objects.get_or_create(
            record=record, case=case, defaults={"registered": registered}
        )
        # A leader received the matter: a group visit waiting for that is closed.
        GroupVisitReception.objects.filter(case=case, received_at__isnull=True).update(
            received_at=record.held_at, record=record
        )
    return matter


def record_register_case(
    *,
    record: ReceptionRecord,
    by: User,
    kind: str,
    title: str,
    content: str,
    place: Place,
    petitioner: case_services.Petitioner,
    category: Category | None = None,
    group_size: int = 1,
    representatives: list[dict] | None = None,
) -> Case:
    """Register a matter raised at the reception (channel 来访) and link it to the record."""
    _require_recorder(by, record.office)
    with transaction.atomic():
        result = case_services.case_register(
            case_services.Registration(
                office=record.office,
                channel=Channel.VISIT,
                kind=kind,
                title=title,
                content=content,
                place=place,
                petitioner=petitioner,
                category=category,
                group_size=group_size,
                representatives=tuple(representatives or ()),
            ),
            by=by,
        )
        _link(record, result.case, registered=result.created)
    return result.case


# ---------------------------------------------------------------- instructions (领导批示)


def instruction_deadline(
    start: dt.datetime, *, days: int | None = None, on: dt.date | None = None
) -> tuple[dt.datetime, str]:
    """The deadline and a note: 24:00 of the explicit date, or `days` calendar days on the
    clocks. Either way a last day on a rest day moves to the next working day; for an explicit
    date the note says so ("原定…为休息日，顺延至…")."""
    if on is not None:
        explicit = deadlines.explicit_last_day(on, work_calendar())
        return explicit.due_at, explicit.note
    length = conf.instruction_days() if days is None else days
    return clocks.due_at(start, length, clocks.DayKind.CALENDAR, work_calendar()), ""


def instruction_add(
    *,
    record: ReceptionRecord,
    by: User,
    text: str,
    owner_user: User | None = None,
    owner_unit: Unit | None = None,
    days: int | None = None,
    deadline_date: dt.date | None = None,
    case: Case | None = None,
) -> Instruction:
    """批示: the leader's instruction, with an owner and a deadline."""
    _require_recorder(by, record.office)
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "请填写批示内容"
    if owner_user is None and owner_unit is None:
        errors["owner_unit"] = "请指定责任单位或责任人"
    if days is not None and not 1 <= days <= 365:
        errors["days"] = "期限天数应在1至365之间"
    if deadline_date is not None and deadline_date < timezone.localtime(record.held_at).date():
        errors["deadline_date"] = "办理期限不能早于接访日期"
    if case is not None and not record.matters.filter(case=case).exists():
        errors["case"] = "批示涉及的事项须是本次接访反映的事项"
    if errors:
        raise ValidationError(errors)
    deadline, note = instruction_deadline(record.held_at, days=days, on=deadline_date)
    return Instruction.objects.create(
        record=record,
        case=case,
        text=text.strip(),
        owner_user=owner_user,
        owner_unit=owner_unit,
        deadline=deadline,
        deadline_note=note,
        created_by=by,
    )


def can_complete(user: User, instruction: Instruction) -> bool:
    return (
        instruction.owner_user_id == user.pk
        or (instruction.owner_unit_id is not None and instruction.owner_unit_id == user.unit_id)
        or selectors.can_record(user, instruction.record.office)
    )


def instruction_complete(
    *, instruction: Instruction, by: User, result: str, at: dt.datetime | None = None
) -> Instruction:
    """Record what became of an instruction (落实情况)."""
    if not can_complete(by, instruction):
        raise PermissionDenied("只有责任人、责任单位或信访机构可以填报落实情况")
    if not result.strip():
        raise ValidationError({"result": "请填写落实结果"})
    updated = Instruction.objects.filter(pk=instruction.pk, done_at__isnull=True).update(
        done_at=at or timezone.now(), result=result.strip()
    )
    if not updated:
        raise ValidationError({"result": "该批示已填报落实情况"})
    instruction.refresh_from_db()
    return instruction


# ---------------------------------------------------------------- appointments (约访)


def slot_create(
    *,
    office: Unit,
    by: User,
    date: dt.date,
    start: dt.time,
    end: dt.time,
    capacity: int,
    leader: User | None = None,
    leader_name: str = "",
    place: str = "",
) -> AppointmentSlot:
    _require_recorder(by, office)
    errors: dict[str, str] = {}
    if not work_calendar().is_workday(date):
        errors["date"] = "约访只安排在工作日"
    if date < selectors.today():
        errors["date"] = "不能开放已过去的日期"
    if end <= start:
        errors["end"] = "结束时间应晚于开始时间"
    if not 1 <= capacity <= 200:
        errors["capacity"] = "可约人数应在1至200之间"
    if not (leader or leader_name.strip()):
        errors["leader"] = "请选择或填写接访领导"
    if errors:
        raise ValidationError(errors)
    _check_leader(leader, office, "leader")
    return AppointmentSlot.objects.create(
        office=office,
        date=date,
        start=start,
        end=end,
        capacity=capacity,
        leader=leader,
        leader_name="" if leader else leader_name.strip(),
        place=place.strip(),
    )


_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_reference() -> str:
    return "YF" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def slot_book(
    *, slot_id: int, name: str, phone: str, description: str, case_number: str = ""
) -> Booking:
    """A citizen books a place. The last place goes to one booker only (a conditional update)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "请填写姓名"
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if not phone and "phone" not in errors:
        errors["phone"] = "请填写联系电话"
    if not description.strip():
        errors["description"] = "请简要说明反映的事项"
    elif len(description) > 500:
        errors["description"] = "事项说明不能超过500字"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        taken = AppointmentSlot.objects.filter(
            pk=slot_id, open=True, date__gte=selectors.today(), booked__lt=F("capacity")
        ).update(booked=F("booked") + 1)
        if not taken:
            raise ValidationError({"slot": "该时段已约满或已关闭，请选择其他时段"})
        return Booking.objects.create(
            slot_id=slot_id,
            reference=_new_reference(),
            name=name.strip()[:40],
            phone=phone,
            description=description.strip(),
            case_number=case_number.strip()[:40],
        )


def booking_cancel(*, booking: Booking, by: User | None = None) -> Booking:
    """Cancel a booking and free its place; cancelling twice frees one place only."""
    if by is not None:
        _require_recorder(by, booking.slot.office)
    with transaction.atomic():
        changed = Booking.objects.filter(pk=booking.pk, status=Booking.Status.BOOKED).update(
            status=Booking.Status.CANCELLED, cancelled_at=timezone.now()
        )
        if changed:
            AppointmentSlot.objects.filter(pk=booking.slot_id, booked__gt=0).update(
                booked=F("booked") - 1
            )
    booking.refresh_from_db()
    return booking


def booking_cancel_by_citizen(*, reference: str, phone: str) -> Booking:
    """The citizen cancels with the booking number and the phone given when booking."""
    try:
        phone = clean_phone(phone)
    except ValidationError:
        phone = ""
    booking = Booking.objects.filter(reference=reference.strip().upper(), phone=phone).first()
    if booking is None or not phone:
        raise ValidationError({"reference": "预约号与联系电话不符"})
    if booking.status != Booking.Status.BOOKED:
        raise ValidationError({"reference": "该预约已取消"})
    return booking_cancel(booking=booking)


def booking_phone_reveal(*, booking: Booking, by: User) -> str:
    """The full phone of a booking, for the office only; every view is logged."""
    if not selectors.can_record(by, booking.slot.office):
        raise PermissionDenied("无权查看完整联系电话")
    if booking.pk in selectors.hidden_bookings(by, [booking]):
        raise ValidationError("该预约涉及的事项须对信访人信息保密，不能查看完整联系电话")
    BookingPhoneView.objects.create(user=by, booking=booking)
    return booking.phone


# ---------------------------------------------------------------- group visits (集体访)


def group_visit_open(*, case: Case) -> GroupVisitReception | None:
    """Start the leader-reception clock of a group visit registered on channel 来访."""
    if case.channel != Channel.VISIT or case.group_size < conf.group_visit_size():
        return None
    due = case.registered_at + dt.timedelta(hours=conf.group_visit_receive_hours())
    visit, _ = GroupVisitReception.objects.get_or_create(
        case=case,
        defaults={
            "office_id": case.office_id,
            "group_size": case.group_size,
            "registered_at": case.registered_at,
            "due_at": due,
        },
    )
    return visit


# ---------------------------------------------------------------- private calendar links


def feed_token_create(*, user: User) -> str:
    """A new private calendar link for `user`; any earlier link stops working. Returns the token,
    which is not stored (only its digest) and is shown once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed_token_revoke(user=user)
        CalendarFeedToken.objects.create(user=user, digest=selectors.feed_digest(token))
    return token


def feed_token_revoke(*, user: User) -> int:
    """停用: every live calendar link of `user`."""
    return CalendarFeedToken.objects.filter(user=user, revoked__isnull=True).update(
        revoked=timezone.now()
    )
