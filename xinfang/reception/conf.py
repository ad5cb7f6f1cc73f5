"""Reception settings: Django settings read from the environment once at start
(xinfang/settings.py); a test changes them with pytest-django's `settings` fixture.

XINFANG_ROTA_WARN_DAYS            working days ahead in which an empty rota day is a warning (10)
XINFANG_GROUP_VISIT_SIZE          visitors from which a visit is a group visit, 集体访 (5)
XINFANG_GROUP_VISIT_RECEIVE_HOURS hours within which a leader must receive a group visit (2)
XINFANG_INSTRUCTION_DAYS          calendar days a leader's instruction (批示) runs by default (15)
XINFANG_BOOKING_RATE_LIMIT        bookings one IP address may attempt per hour (5)
XINFANG_BOOKING_DAYS_AHEAD        days ahead the public booking page offers slots (30)
"""

from __future__ import annotations

from django.conf import settings


def rota_warn_days() -> int:
    return settings.XINFANG_ROTA_WARN_DAYS


def group_visit_size() -> int:
    return settings.XINFANG_GROUP_VISIT_SIZE


def group_visit_receive_hours() -> int:
    return settings.XINFANG_GROUP_VISIT_RECEIVE_HOURS


def instruction_days() -> int:
    return settings.XINFANG_INSTRUCTION_DAYS


def booking_rate_limit() -> int:
    return settings.XINFANG_BOOKING_RATE_LIMIT


def booking_days_ahead() -> int:
    return settings.XINFANG_BOOKING_DAYS_AHEAD
