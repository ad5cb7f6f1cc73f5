"""Reads for leader reception: who may see and manage, the month view, warnings, lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.selectors import work_calendar
from xinfang.orgs.models import Role, Unit, User
from xinfang.reception import conf
from xinfang.reception.models import (
    AppointmentSlot,
    Booking,
    GroupVisitReception,
    Instruction,
    ReceptionRecord,
    ReceptionRota,
    RotaDay,
)

LEADER_ROLES = frozenset({Role.HEAD, Role.SUPERVISOR})
MANAGER_ROLES = frozenset({Role.CLERK, Role.HEAD})


def today() -> dt.date:
    return timezone.localtime(timezone.now(), LOCAL).date()


# ---------------------------------------------------------------- who may do what


def offices_for_user(user: User) -> QuerySet[Unit]:
    """The petition offices whose reception work `user` may see (接访工作可见范围)."""
    offices = Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE)
    ids = access.scope_unit_ids(user)
    if ids is None:
        return offices
    on_rota = RotaDay.objects.filter(Q(leader=user) | Q(substitute=user)).values("rota__office_id")
    return offices.filter(Q(id__in=ids) | Q(id__in=on_rota))


def can_view_office(user: User, office: Unit) -> bool:
    return user.is_authenticated and offices_for_user(user).filter(pk=office.pk).exists()


def can_record(user: User, office: Unit) -> bool:
    """Clerks and leaders (单位负责人) of the office enter reception records and set the rota."""
    return (
        user.is_authenticated and user.is_active and user.unit_id == office.pk
        and user.role in MANAGER_ROLES
    )


def can_manage_rota(user: User, office: Unit) -> bool:
    return can_record(user, office) or (user.is_authenticated and user.role == Role.ADMIN)


def leader_choices(office: Unit) -> QuerySet[User]:
    """Leaders who may receive for `office`: heads and supervisors of its government's tree."""
    root = office.parent or office
    return User.objects.filter(
        is_active=True, role__in=LEADER_ROLES, unit__path__startswith=root.path
    ).select_related("unit").order_by("unit__path", "display_name", "id")


# ---------------------------------------------------------------- the rota


def rota_of(office: Unit) -> ReceptionRota | None:
    return ReceptionRota.objects.filter(office=office).first()


@dataclass(frozen=True)
class DayCell:
    date: dt.date
    workday: bool
    in_month: bool
    day: RotaDay | None

    @property
    def gap(self) -> bool:
        return self.workday and (self.day is None or not self.day.on_duty)


def rota_month(office: Unit, year: int, month: int) -> list[list[DayCell]]:
    """The month as weeks (Monday first) of cells: working day or not, and the rota day if any."""
    first = dt.date(year, month, 1)
    start = first - dt.timedelta(days=first.weekday())
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    end = following + dt.timedelta(days=(7 - following.weekday()) % 7)
    days = {
        d.date: d
        for d in RotaDay.objects.filter(rota__office=office, date__gte=start, date__lt=end)
        .select_related("leader", "substitute")
    }
    cal = work_calendar()
    cells = []
    day = start
    while day < end:
        cells.append(DayCell(day, cal.is_workday(day), day.month == month, days.get(day)))
        day += dt.timedelta(days=1)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Working days from `start` to `end`, both included, holidays and 调休 considered."""
    cal = work_calendar()
    days, day = [], start
    while day <= end:
        if cal.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def next_working_days(start: dt.date, count: int) -> list[dt.date]:
    """The next `count` working days from `start` (included when it is one)."""
    cal = work_calendar()
    days, day = [], start
    while len(days) < count:
        if cal.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass(frozen=True)
class RotaWarning:
    office: Unit
    date: dt.date
    reason: str

    def as_dict(self) -> dict:
        return {"office": self.office.code, "office_name": self.office.name,
                "date": self.date.isoformat(), "reason": self.reason}


def rota_warnings(office: Unit, *, start: dt.date | None = None,
                  days: int | None = None) -> list[RotaWarning]:
    """Working days in the next `days` (XINFANG_ROTA_WARN_DAYS) on which nobody receives."""
    dates = next_working_days(start or today(), conf.rota_warn_days() if days is None else days)
    if not dates:
        return []
    rows = {
        d.date: d
        for d in RotaDay.objects.filter(rota__office=office, date__gte=dates[0], date__lte=dates[-1])
        .select_related("leader", "substitute")
    }
    warnings = []
    for date in dates:
        day = rows.get(date)
        if day is None or not (day.leader_label or day.substitute_label):
            warnings.append(RotaWarning(office, date, "未安排接访领导"))
        elif not day.on_duty:
            warnings.append(RotaWarning(office, date, f"{day.leader_label}缺席且未安排替班领导"))
    return warnings


def all_rota_warnings(*, start: dt.date | None = None, days: int | None = None) -> list[RotaWarning]:
    """Warnings for every office that keeps a rota."""
    offices = Unit.objects.filter(reception_rota__isnull=False).order_by("path")
    return [w for office in offices for w in rota_warnings(office, start=start, days=days)]


def rota_days(office: Unit, start: dt.date, end: dt.date) -> QuerySet[RotaDay]:
    return RotaDay.objects.filter(rota__office=office, date__gte=start, date__lte=end).select_related(
        "leader", "substitute"
    )


# ---------------------------------------------------------------- records and instructions


def records_for(user: User) -> QuerySet[ReceptionRecord]:
    return ReceptionRecord.objects.filter(office__in=offices_for_user(user)).select_related(
        "office", "leader"
    )


def instructions_for(user: User) -> QuerySet[Instruction]:
    """Instructions of the offices `user` sees, and those `user` or the user's unit owns."""
    mine = Q(owner_user=user) | (Q(owner_unit_id=user.unit_id) if user.unit_id else Q(pk__in=[]))
    return Instruction.objects.filter(Q(record__office__in=offices_for_user(user)) | mine).select_related(
        "record", "record__office", "owner_user", "owner_unit", "case"
    )


def overdue_instructions(qs: QuerySet[Instruction], now: dt.datetime | None = None):
    return qs.filter(done_at__isnull=True, deadline__lte=now or timezone.now()).order_by("deadline", "id")


# ---------------------------------------------------------------- appointments


def open_slots(*, office: Unit | None = None, on: dt.date | None = None) -> QuerySet[AppointmentSlot]:
    """Slots a citizen may still book: open, from today to the booking horizon, places left."""
    from django.db.models import F

    first = on or today()
    qs = AppointmentSlot.objects.filter(
        open=True, date__gte=first, date__lte=first + dt.timedelta(days=conf.booking_days_ahead()),
        booked__lt=F("capacity"),
    ).select_related("office", "leader")
    return qs.filter(office=office) if office is not None else qs


def slot_bookings(slot: AppointmentSlot) -> QuerySet[Booking]:
    return slot.bookings.order_by("status", "created_at", "id")


# ---------------------------------------------------------------- group visits


def group_visits(user: User, *, show: str = "open", now: dt.datetime | None = None):
    """Group visits (集体访) awaiting a leader (`open`), past their time (`overdue`), or all."""
    qs = GroupVisitReception.objects.filter(office__in=offices_for_user(user)).select_related(
        "case", "office", "record"
    )
    if show == "open":
        qs = qs.filter(received_at__isnull=True)
    elif show == "overdue":
        qs = qs.filter(received_at__isnull=True, due_at__lte=now or timezone.now())
    return qs.order_by("due_at", "id")
