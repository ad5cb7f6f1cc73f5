"""Reads about matters: the calendar, the clock table, queues, the timeline."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

from xinfang.cases import clocks
from xinfang.cases.calendar import WorkCalendar
from xinfang.cases.models import HOTLINE_KINDS, Case, HolidayOverride, State


@lru_cache(maxsize=1)
def work_calendar() -> WorkCalendar:
    """The holiday calendar with the admins' overrides (cached; cleared when they change)."""
    overrides = dict(HolidayOverride.objects.values_list("date", "is_workday"))
    return WorkCalendar(overrides=overrides)


def clock_rules() -> dict[str, clocks.ClockRule]:
    return clocks.clock_table(getattr(settings, "XINFANG_CLOCKS", None))


def case_due_state(case: Case, now: dt.datetime | None = None) -> clocks.DueState:
    if case.paused:
        return clocks.DueState.NONE
    return clocks.due_state(case.due_at, now or timezone.now(), settings.XINFANG_DUE_SOON_DAYS)


def hotline_clock_name(kind: str) -> str | None:
    return kind if kind in HOTLINE_KINDS else None


def overdue_cases(qs, now: dt.datetime | None = None):
    """Matters whose running clock has run out (one indexed range on due_at)."""
    return qs.filter(due_at__lte=now or timezone.now())


def due_soon_cases(qs, now: dt.datetime | None = None):
    now = now or timezone.now()
    return qs.filter(due_at__gt=now, warn_at__lte=now)


def same_petitioner_cases(*, id_number: str = "", phone: str = "", exclude_id: int | None = None):
    """The same petitioner's other matters, found by resident ID or phone."""
    if not id_number and not phone:
        return Case.objects.none()
    qs = Case.objects.filter(petitioner_id_number=id_number) if id_number else Case.objects.none()
    if phone:
        qs = qs | Case.objects.filter(petitioner_phone=phone)
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    return qs.order_by("-registered_at")[:20]


def is_final(case: Case) -> bool:
    return case.state in {State.FINAL, State.NOT_ACCEPTED_AGAIN}
