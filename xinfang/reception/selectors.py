"""Reads for leader reception: who may see and manage, the month view, warnings, lists."""

from __future__ import annotations

import datetime as dt
import hashlib
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
    CalendarFeedToken,
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


# Who sees a petition office's reception work (records, bookings, group visits, instructions):
# - by the user's current unit scope (`access.scope_unit_ids`): the office's own staff, the
#   government above it, admins; and
# - a leader from another unit on the rota, on the rota day itself only (Beijing date), as the
#   leader on duty (not marked absent) or the substitute, and only that day's work: the day's
#   records and slots (with their bookings), group visits awaiting a leader or registered that
#   day. Being on the rota another day, before or after, gives nothing. The rota itself (who
#   receives when, and its calendar feed) stays visible to everyone ever on it: it names no
#   visitor.


def _scope_offices(user: User) -> QuerySet[Unit]:
    offices = Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE)
    ids = access.scope_unit_ids(user)
    return offices if ids is None else offices.filter(id__in=ids)


def duty_office_ids(user: User, *, on: dt.date | None = None) -> list[int]:
    """The offices where `user` receives today (or `on`): leader not absent, or substitute."""
    if not user.is_authenticated or not user.is_active:
        return []
    on_duty = Q(leader=user, leader_absent=False) | Q(substitute=user)
    return list(
        RotaDay.objects.filter(on_duty, date=on or today()).values_list(
            "rota__office_id", flat=True
        )
    )


def _today_bounds() -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(today(), dt.time(0), tzinfo=LOCAL)
    return start, start + dt.timedelta(days=1)


def offices_for_user(user: User) -> QuerySet[Unit]:
    """The petition offices whose reception work `user` may see today (接访工作可见范围)."""
    if access.scope_unit_ids(user) is None:
        return _scope_offices(user)
    return Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE).filter(
        Q(id__in=_scope_offices(user).values("id")) | Q(id__in=duty_office_ids(user))
    )


def rota_offices_for_user(user: User) -> QuerySet[Unit]:
    """The offices whose rota `user` may read: those of the office work above, and any office
    whose rota names the user (to see and subscribe to one's own days)."""
    if access.scope_unit_ids(user) is None:
        return _scope_offices(user)
    on_rota = RotaDay.objects.filter(Q(leader=user) | Q(substitute=user)).values("rota__office_id")
    return Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE).filter(
        Q(id__in=_scope_offices(user).values("id"))
        | Q(id__in=on_rota)
        | Q(id__in=duty_office_ids(user))
    )


def can_view_office(user: User, office: Unit) -> bool:
    return user.is_authenticated and offices_for_user(user).filter(pk=office.pk).exists()


def _office_work(user: User, office_field: str, day_q) -> Q:
    """Rows of the offices in `user`'s scope, or of today's duty offices matching `day_q`."""
    in_scope = Q(**{f"{office_field}__in": _scope_offices(user)})
    duty = duty_office_ids(user)
    if not duty:
        return in_scope
    return in_scope | (Q(**{f"{office_field}_id__in": duty}) & day_q)


def can_record(user: User, office: Unit) -> bool:
    """Clerks and leaders (单位负责人) of the office enter reception records and set the rota."""
    return (
        user.is_authenticated
        and user.is_active
        and user.unit_id == office.pk
        and user.role in MANAGER_ROLES
    )


def can_manage_rota(user: User, office: Unit) -> bool:
    return can_record(user, office) or (user.is_authenticated and user.role == Role.ADMIN)


def leader_choices(office: Unit) -> QuerySet[User]:
    """Leaders who may receive for `office`: heads and supervisors of its government's tree."""
    root = office.parent or office
    return (
        User.objects.filter(is_active=True, role__in=LEADER_ROLES, unit__path__startswith=root.path)
        .select_related("unit")
        .order_by("unit__path", "display_name", "id")
    )


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
        for d in RotaDay.objects.filter(
            rota__office=office, date__gte=start, date__lt=end
        ).select_related("leader", "substitute")
    }
    cal = work_calendar()
    cells = []
    day = start
    while day < end:
        cells.append(DayCell(day, cal.is_workday(day), day.month == month, days.get(day)))
        day += dt.timedelta(days=1)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Working days from `start` to `end`, both included, holidays and 调休 considered."""
    cal = work_calendar()
    days: list[dt.date] = []
    day = start
    while day <= end:
        if cal.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def next_working_days(start: dt.date, count: int) -> list[dt.date]:
    """The next `count` working days from `start` (included when it is one)."""
    cal = work_calendar()
    days: list[dt.date] = []
    day = start
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
        return {
            "office": self.office.code,
            "office_name": self.office.name,
            "date": self.date.isoformat(),
            "reason": self.reason,
        }


def rota_warnings(
    office: Unit, *, start: dt.date | None = None, days: int | None = None
) -> list[RotaWarning]:
    """Working days in the next `days` (XINFANG_ROTA_WARN_DAYS) on which nobody receives."""
    dates = next_working_days(start or today(), conf.rota_warn_days() if days is None else days)
    if not dates:
        return []
    rows = {
        d.date: d
        for d in RotaDay.objects.filter(
            rota__office=office, date__gte=dates[0], date__lte=dates[-1]
        ).select_related("leader", "substitute")
    }
    warnings = []
    for date in dates:
        day = rows.get(date)
        if day is None or not (day.leader_label or day.substitute_label):
            warnings.append(RotaWarning(office, date, "未安排接访领导"))
        elif not day.on_duty:
            warnings.append(RotaWarning(office, date, f"{day.leader_label}缺席且未安排替班领导"))
    return warnings


def all_rota_warnings(
    *, start: dt.date | None = None, days: int | None = None
) -> list[RotaWarning]:
    """Warnings for every office that keeps a rota."""
    offices = Unit.objects.filter(reception_rota__isnull=False).order_by("path")
    return [w for office in offices for w in rota_warnings(office, start=start, days=days)]


def rota_days(office: Unit, start: dt.date, end: dt.date) -> QuerySet[RotaDay]:
    return RotaDay.objects.filter(
        rota__office=office, date__gte=start, date__lte=end
    ).select_related("leader", "substitute")


# ---------------------------------------------------------------- records and instructions


def _held_today(field: str = "held_at") -> Q:
    start, end = _today_bounds()
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def records_for(user: User) -> QuerySet[ReceptionRecord]:
    """Records of the offices in scope, and today's records of the office where `user` is on duty."""
    return ReceptionRecord.objects.filter(
        _office_work(user, "office", _held_today())
    ).select_related("office", "leader")


def instructions_for(user: User) -> QuerySet[Instruction]:
    """Instructions of the records `user` sees, and those `user` or the user's unit owns."""
    mine = Q(owner_user=user) | (Q(owner_unit_id=user.unit_id) if user.unit_id else Q(pk__in=[]))
    seen = _office_work(user, "record__office", _held_today("record__held_at"))
    return Instruction.objects.filter(seen | mine).select_related(
        "record", "record__office", "owner_user", "owner_unit", "case"
    )


def overdue_instructions(qs: QuerySet[Instruction], now: dt.datetime | None = None):
    return qs.filter(done_at__isnull=True, deadline__lte=now or timezone.now()).order_by(
        "deadline", "id"
    )


# ---------------------------------------------------------------- appointments


def open_slots(
    *, office: Unit | None = None, on: dt.date | None = None
) -> QuerySet[AppointmentSlot]:
    """Slots a citizen may still book: open, from today to the booking horizon, places left."""
    from django.db.models import F

    first = on or today()
    qs = AppointmentSlot.objects.filter(
        open=True,
        date__gte=first,
        date__lte=first + dt.timedelta(days=conf.booking_days_ahead()),
        booked__lt=F("capacity"),
    ).select_related("office", "leader")
    return qs.filter(office=office) if office is not None else qs


def slots_for(user: User) -> QuerySet[AppointmentSlot]:
    """Slots (and so bookings) of the offices in scope, and today's slots where `user` is on duty."""
    return AppointmentSlot.objects.filter(
        _office_work(user, "office", Q(date=today()))
    ).select_related("office", "leader")


def slot_bookings(slot: AppointmentSlot) -> QuerySet[Booking]:
    return slot.bookings.order_by("status", "created_at", "id")


def hidden_bookings(user: User, bookings) -> set[int]:
    """The bookings whose booker `user` may not see: a booking that names a matter whose petitioner
    `user` may not see (`access.can_see_petitioner`: a report's accused, or a matter out of
    scope) shows neither name, phone nor what the booker wrote."""
    from xinfang.cases.models import Case

    numbers = {b.case_number.strip().upper() for b in bookings if b.case_number.strip()}
    if not numbers:
        return set()
    # Read only to decide what to hide; nothing of a matter out of scope is shown.
    cases = {c.number: c for c in Case.objects.filter(number__in=numbers)}
    hidden = set()
    for b in bookings:
        case = cases.get(b.case_number.strip().upper())
        if case is not None and not access.can_see_petitioner(user, case):
            hidden.add(b.pk)
    return hidden


# ---------------------------------------------------------------- group visits


def group_visits(user: User, *, show: str = "open", now: dt.datetime | None = None):
    """Group visits (集体访) awaiting a leader (`open`), past their time (`overdue`), or all."""
    waiting_or_today = Q(received_at__isnull=True) | _held_today("registered_at")
    qs = GroupVisitReception.objects.filter(
        _office_work(user, "office", waiting_or_today)
    ).select_related("case", "office", "record")
    if show == "open":
        qs = qs.filter(received_at__isnull=True)
    elif show == "overdue":
        qs = qs.filter(received_at__isnull=True, due_at__lte=now or timezone.now())
    return qs.order_by("due_at", "id")


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def feed_user(token: str) -> User | None:
    """The active user whose live private calendar link this token is, else None."""
    if not token or len(token) > 100:
        return None
    found = (
        CalendarFeedToken.objects.select_related("user__unit")
        .filter(digest=feed_digest(token), revoked__isnull=True, user__is_active=True)
        .first()
    )
    return found.user if found else None


def feed_links(user: User) -> QuerySet[CalendarFeedToken]:
    return CalendarFeedToken.objects.filter(user=user).order_by("-created")[:10]
